/* <stdbool.h> of corels' freestanding headers (C17 7.18). From C23 on, bool, true and false
 * are keywords and the macros are not defined (clang-16 does the same). */
#ifndef __CORELS_STDBOOL_H
#define __CORELS_STDBOOL_H

#if !defined(__STDC_VERSION__) || __STDC_VERSION__ <= 201710L
#define bool _Bool
#define true 1
#define false 0
#endif
#define __bool_true_false_are_defined 1

#endif
