/* <stdnoreturn.h> of corels' freestanding headers (C17 7.23). */
#ifndef __CORELS_STDNORETURN_H
#define __CORELS_STDNORETURN_H

#define noreturn _Noreturn

#endif
