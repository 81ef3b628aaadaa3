/* <iso646.h> of corels' freestanding headers (C17 7.9): alternative spellings. */
#ifndef __CORELS_ISO646_H
#define __CORELS_ISO646_H

#define and &&
#define and_eq &=
#define bitand &
#define bitor |
#define compl ~
#define not !
#define not_eq !=
#define or ||
#define or_eq |=
#define xor ^
#define xor_eq ^=

#endif
