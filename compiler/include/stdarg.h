/* <stdarg.h> of corels' freestanding headers (C17 7.16). With __need___va_list defined
 * (glibc's <stdio.h> does that) only __gnuc_va_list is declared. */
#ifndef __CORELS_STDARG_H

#ifndef __GNUC_VA_LIST
#define __GNUC_VA_LIST 1
typedef __builtin_va_list __gnuc_va_list;
#endif

#ifdef __need___va_list
#undef __need___va_list
#else
#define __CORELS_STDARG_H

#ifndef _VA_LIST
#define _VA_LIST
typedef __builtin_va_list va_list;
#endif

#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_end(ap) __builtin_va_end(ap)
#define va_arg(ap, type) __builtin_va_arg(ap, type)
#if !defined(__STRICT_ANSI__) || !defined(__STDC_VERSION__) || __STDC_VERSION__ >= 199901L
#define va_copy(dst, src) __builtin_va_copy(dst, src)
#endif
#define __va_copy(dst, src) __builtin_va_copy(dst, src)

#endif /* __need___va_list */
#endif /* __CORELS_STDARG_H */
