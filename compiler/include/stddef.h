/* <stddef.h> of corels' freestanding headers (C17 7.19) for -target bpf, written from the
 * target's predefined macros. Searched where clang's resource directory is.
 *
 * Library headers ask for single definitions by defining __need_size_t, __need_NULL,
 * __need_wchar_t, __need_ptrdiff_t, __need_wint_t, __need_max_align_t or __need_offsetof
 * before including this file (the GCC/glibc protocol); with none of them, it defines
 * everything. Each definition is made at most once, whichever way it was asked for. */

#if !defined(__need_ptrdiff_t) && !defined(__need_size_t) && !defined(__need_wchar_t) && \
    !defined(__need_wint_t) && !defined(__need_NULL) && !defined(__need_max_align_t) && \
    !defined(__need_offsetof)
#define __corels_stddef_everything 1
#endif

#if defined(__corels_stddef_everything) || defined(__need_ptrdiff_t)
#ifndef __corels_have_ptrdiff_t
#define __corels_have_ptrdiff_t 1
typedef __PTRDIFF_TYPE__ ptrdiff_t;
#endif
#endif

#if defined(__corels_stddef_everything) || defined(__need_size_t)
#ifndef __corels_have_size_t
#define __corels_have_size_t 1
typedef __SIZE_TYPE__ size_t;
#endif
#endif

#if defined(__corels_stddef_everything) || defined(__need_wchar_t)
#ifndef __corels_have_wchar_t
#define __corels_have_wchar_t 1
typedef __WCHAR_TYPE__ wchar_t;
#endif
#endif

/* wint_t belongs to <wchar.h>; it is here only on request, as in GCC's protocol. */
#if defined(__need_wint_t)
#ifndef __corels_have_wint_t
#define __corels_have_wint_t 1
typedef __WINT_TYPE__ wint_t;
#endif
#endif

#if defined(__corels_stddef_everything) || defined(__need_NULL)
#undef NULL
#define NULL ((void *)0)
#endif

#if defined(__corels_stddef_everything) || defined(__need_max_align_t)
#if defined(__need_max_align_t) || !defined(__STDC_VERSION__) || __STDC_VERSION__ >= 201112L
#ifndef __corels_have_max_align_t
#define __corels_have_max_align_t 1
/* The most strictly aligned scalar types of the target: long long and long double are both
 * 8 bytes, 8-aligned on BPF, so this is 16 bytes with alignment 8, as clang lays it out. */
typedef struct {
	long long __corels_max_align_ll __attribute__((__aligned__(__alignof__(long long))));
	double __corels_max_align_ld __attribute__((__aligned__(__alignof__(double))));
} max_align_t;
#endif
#endif
#endif

#if defined(__corels_stddef_everything) || defined(__need_offsetof)
#ifndef offsetof
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif
#endif

#undef __need_ptrdiff_t
#undef __need_size_t
#undef __need_wchar_t
#undef __need_wint_t
#undef __need_NULL
#undef __need_max_align_t
#undef __need_offsetof
#undef __corels_stddef_everything
