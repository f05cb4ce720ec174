/*
 * Just enough of the kernel's interfaces, in user space, to compile
 * kernel/nvsim/nvsim-mig.c into the fuzz target fuzz-nvsim-mig: types,
 * byte order, locks that do nothing (the target is single-threaded) and
 * declarations of what the target itself provides.  Nothing here is the
 * kernel's code; the semantics are those nvsim-mig.c relies on.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef NVSIM_KERNEL_SHIM_H
#define NVSIM_KERNEL_SHIM_H

#include <errno.h>
#include <endian.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t loff_t_shim;
#define loff_t loff_t_shim

#define __user
#define THIS_MODULE NULL
#define GFP_KERNEL_ACCOUNT 0
#define PAGE_SIZE 4096UL

#define le32_to_cpu(x) le32toh(x)
#define le64_to_cpu(x) le64toh(x)
#define cpu_to_le32(x) htole32(x)
#define cpu_to_le64(x) htole64(x)

#define min(a, b) ((a) < (b) ? (a) : (b))
#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define sizeof_field(t, m) sizeof(((t *)0)->m)
#define offsetofend(t, m) (offsetof(t, m) + sizeof_field(t, m))
#define container_of(p, t, m) ((t *)((char *)(p) - offsetof(t, m)))
#define BUILD_BUG_ON(c) _Static_assert(!(c), #c)
#define WARN_ON_ONCE(c) ({ bool __c = (c); if (__c) shim_warn(#c); __c; })
#define lockdep_assert_held(l) ((void)(l))
#define cond_resched() ((void)0)

void shim_warn(const char *what);

/* errors in pointers */
#define MAX_ERRNO 4095
#define ERR_PTR(e) ((void *)(long)(e))
#define PTR_ERR(p) ((long)(p))
#define IS_ERR(p) ((unsigned long)(p) >= (unsigned long)-MAX_ERRNO)
#define ERR_CAST(p) ((void *)(p))

/* locks: the target runs one thread */
struct mutex { int held; };
#define mutex_init(m) ((m)->held = 0)
#define mutex_destroy(m) ((void)(m))
#define mutex_lock(m) ((m)->held++)
#define mutex_unlock(m) ((m)->held--)

typedef struct { int counter; } atomic_t;
typedef struct { long counter; } atomic_long_t;
static inline int atomic_cmpxchg(atomic_t *v, int old, int new)
{
    int cur = v->counter;

    if (cur == old) {
        v->counter = new;
    }
    return cur;
}
#define atomic_long_read(v) ((v)->counter)
typedef struct { long long counter; } atomic64_t;
#define atomic64_set(v, i) ((v)->counter = (i))
#define atomic64_add(i, v) ((v)->counter += (i))
#define atomic64_read(v) ((v)->counter)

/* memory */
#define kzalloc(n, gfp) calloc(1, (n))
#define kfree(p) free(p)
struct page { u8 data[4096]; };
#define page_address(p) ((void *)(p)->data)
#define clear_page(a) memset((a), 0, 4096)
static inline size_t strscpy(char *d, const char *s, size_t n)
{
    size_t l = strnlen(s, n - 1);

    memcpy(d, s, l);
    d[l] = 0;
    return l;
}

/* user memory: the target's buffers are user memory */
#define copy_from_user(d, s, n) (memcpy((d), (s), (n)), 0UL)
#define copy_to_user(d, s, n) (memcpy((d), (s), (n)), 0UL)

unsigned int shim_crc32_le(unsigned int crc, const void *p, size_t len);
#define crc32_le shim_crc32_le

/* files */
struct inode { int unused; };
struct file {
    void *private_data;
    struct inode *f_inode;
    const struct file_operations *f_op;
};
struct vm_area_struct;
struct file_operations {
    void *owner;
    ssize_t (*read)(struct file *, char __user *, size_t, loff_t *);
    ssize_t (*write)(struct file *, const char __user *, size_t, loff_t *);
    long (*unlocked_ioctl)(struct file *, unsigned int, unsigned long);
    long (*compat_ioctl)(struct file *, unsigned int, unsigned long);
    int (*release)(struct inode *, struct file *);
};
long compat_ptr_ioctl(struct file *f, unsigned int cmd, unsigned long arg);
struct file *anon_inode_getfile(const char *name,
                                const struct file_operations *fops,
                                void *priv, int flags);
#define stream_open(inode, filp) ((void)0)
void fput(struct file *f);
#define get_file(f) shim_get_file(f)
struct file *shim_get_file(struct file *f);

/* xarray: only declared; the target's framebuffer is an array */
typedef unsigned int xa_mark_t;
#define XA_MARK_0 0U
#define XA_MARK_1 1U
struct xarray { int unused; };
void *xa_find(struct xarray *xa, unsigned long *idx, unsigned long max,
              xa_mark_t mark);
void *xa_find_after(struct xarray *xa, unsigned long *idx,
                    unsigned long max, xa_mark_t mark);
bool xa_get_mark(struct xarray *xa, unsigned long idx, xa_mark_t mark);
#define XA_PRESENT 8U
#define xa_for_each_marked(xa, i, e, m) \
    for (i = 0, e = xa_find(xa, &i, ULONG_MAX, m); e; \
         e = xa_find_after(xa, &i, ULONG_MAX, m))
#define xa_for_each(xa, i, e) xa_for_each_marked(xa, i, e, XA_PRESENT)

struct list_head { struct list_head *next, *prev; };
struct address_space;
struct eventfd_ctx;

/* mdev */
struct mdev_type { int unused; };
struct mdev_device;

#endif
