/* Not a kernel: C constructs that are hard to write back from BTF (packed
 * and over-aligned members, bitfields across words, odd-sized enums,
 * function pointers, nested anonymous types), for WriteHeader's tests. */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

struct packed_hdr {
	u8 kind;
	u32 len;
	u16 port;
} __attribute__((packed));

struct holds_packed {
	char c;
	struct packed_hdr h;
	u64 tail;
};

struct cacheline {
	int a;
	int b __attribute__((aligned(64)));
	char c;
} __attribute__((aligned(64)));

struct holds_cacheline {
	char x;
	struct cacheline cl;
	short y;
};

struct bits {
	u32 a:3;
	u32 b:29;
	u64 c:40;
	u64 d:24;
	u8 e:1;
	int :0;
	u16 f:9;
	long long g;
	u8 h:2;
};

enum small_enum : unsigned char { SMALL_A, SMALL_B = 200 };
enum wide_enum { WIDE_A = 1, WIDE_B = 0x100000000ULL };
enum neg_enum { NEG_A = -5, NEG_B = 7 };
enum { ANON_TOP_A = 1, ANON_TOP_B = 2 };

struct holds_enums {
	enum small_enum s;
	u8 after;
	enum wide_enum w;
	enum { INLINE_X, INLINE_Y } inl;
};

typedef int (*handler_t)(void *ctx, const char *name, ...);
typedef void (*noargs_t)(void);

struct ops {
	handler_t handlers[4];
	int (*fns[2][3])(int);
	void *(*alloc)(unsigned long size, int (*cb)(void));
	const volatile u32 * const *cvp;
	char matrix[2][3][4];
	noargs_t done;
};

struct node;
struct list {
	struct node *head;
	union {
		struct { u32 lo, hi; };
		u64 both;
		struct { u8 bytes[8]; } raw;
	};
	struct {
		int depth;
		struct list *parent;
	} meta;
};

struct node {
	struct list in;
	struct node *next;
	unsigned long data[];
};

struct empty {};
struct holds_empty { int x; struct empty e; int y; };

typedef struct { int anon_typedef_field; } anon_td_t;

struct dup_names { int x; };

union u_top {
	int i;
	float f;
	double d;
	anon_td_t td;
};

#define KEEP(type, name) type name __attribute__((used))
KEEP(struct holds_packed, v1);
KEEP(struct holds_cacheline, v2);
KEEP(struct bits, v3);
KEEP(struct holds_enums, v4);
KEEP(struct ops, v5);
KEEP(struct node, v6);
KEEP(struct holds_empty, v7);
KEEP(union u_top, v8);
KEEP(struct dup_names, v9);
int anon_top_user = ANON_TOP_B;
