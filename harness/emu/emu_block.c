// SPDX-License-Identifier: GPL-2.0
/*
 * iio_emu - Analog Devices' mmap block API on a chardev of its own.
 *
 * ADI's kernels add five ioctls to the IIO buffer fd (include/linux/iio/
 * buffer_impl.h there, never merged upstream): BLOCK_ALLOC 0xa0, FREE 0xa1,
 * QUERY 0xa2, ENQUEUE 0xa3, DEQUEUE 0xa4, plus mmap() of each block at the
 * offset QUERY reports.  A module cannot add ioctls to the IIO chardev of a
 * stock kernel, so the same UAPI is served here on /dev/<device>-blocks
 * (emu-adc-blocks, emu-dac-blocks), for buffer1 of that device.  Its blocks
 * join buffer1's queue next to DMABUF blocks and are filled (emu-adc) or
 * consumed (emu-dac) by exactly the same paths; the buffer itself is still
 * configured and enabled through sysfs.
 *
 * Semantics (as ADI's industrialio-buffer-dma.c, details in README.md):
 *  - ALLOC appends req.count blocks of req.size bytes (at most 64 in all;
 *    fewer if that is reached, none: ENOSPC); req.id = first new id, req.count
 *    = allocated.  EBUSY while buffer1 is enabled.  New blocks are owned by
 *    userspace.  Offsets: page-aligned, consecutive from 0.
 *  - FREE frees every block and never fails (so userspace probes the API with
 *    it).  A block still mapped or still in the kernel's queue lives on until
 *    munmap() resp. until the kernel is done with it; it is never handed back.
 *  - QUERY by id.  ENQUEUE by id, only a block userspace owns (else EBUSY):
 *    input blocks are filled to their size (bytes_used is ignored, as on ADI),
 *    output blocks send bytes_used (1..size, else EINVAL); FLAG_CYCLIC on
 *    output only.  DEQUEUE returns the oldest finished block (all fields; input
 *    bytes_used = whole scans written, less than the block's capacity when it
 *    was cancelled by a disable; timestamp with FLAG_TIMESTAMP_VALID); empty:
 *    EAGAIN with O_NONBLOCK, else it sleeps (interruptible).
 *  - poll(): POLLIN (input) / POLLOUT (output) while a finished block waits.
 *  - Device removal: ioctls ENODEV, poll POLLERR|POLLHUP, sleepers woken;
 *    mappings stay valid until munmap().
 *  - One opener at a time (EBUSY), like a buffer fd.  Closing frees the
 *    blocks (FREE); mappings keep the file, so that happens after munmap().
 *
 * Lifetime: a block is counted (kref) by its owner list, by the queue while
 * queued and by each vma; its memory (vmalloc_user) goes with the last.  A
 * block counts its session, and a session counts as an emu object, so module
 * exit waits for blocks that outlive their file in a disabled buffer's queue.
 */
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include <linux/iio/buffer_impl.h>

#include "emu.h"

#if EMU_HAVE_DMABUF

struct emu_blk_alloc_req {
	__u32 type;
	__u32 size;
	__u32 count;
	__u32 id;
};

#define EMU_BLK_FLAG_TIMESTAMP_VALID	(1 << 0)
#define EMU_BLK_FLAG_CYCLIC		(1 << 1)

struct emu_blk_uapi {
	__u32 id;
	__u32 size;
	__u32 bytes_used;
	__u32 type;
	__u32 flags;
	__u32 offset;
	__u64 timestamp;
};

#define EMU_BLOCK_ALLOC_IOCTL	_IOWR('i', 0xa0, struct emu_blk_alloc_req)
#define EMU_BLOCK_FREE_IOCTL	_IO('i', 0xa1)
#define EMU_BLOCK_QUERY_IOCTL	_IOWR('i', 0xa2, struct emu_blk_uapi)
#define EMU_BLOCK_ENQUEUE_IOCTL	_IOWR('i', 0xa3, struct emu_blk_uapi)
#define EMU_BLOCK_DEQUEUE_IOCTL	_IOWR('i', 0xa4, struct emu_blk_uapi)

#define EMU_BLK_MAX	64

enum emu_blk_state { EMU_BLK_USER, EMU_BLK_QUEUED, EMU_BLK_DONE };

struct emu_blk_session;

struct emu_mblock {
	struct kref ref;
	struct emu_xblock xb;
	struct emu_blk_session *s;
	struct emu_blk_uapi u;		/* P: s->lock (bytes_used, flags, timestamp) */
	enum emu_blk_state state;	/* P: s->lock */
	bool freed;			/* P: s->lock; FREE dropped it */
	struct list_head out;		/* P: s->lock; on s->outgoing */
};

struct emu_blk_session {
	struct kref ref;		/* 1 for the open file, 1 per block */
	struct emu_dmabuf *eb;
	struct mutex mlock;		/* ALLOC, FREE, QUERY, ENQUEUE, mmap */
	spinlock_t lock;
	struct emu_mblock *blocks[EMU_BLK_MAX];	/* P: mlock (+ lock to clear) */
	unsigned int nblocks;		/* P: mlock */
	u32 next_offset;		/* P: mlock */
	struct list_head outgoing;	/* P: lock */
};

struct emu_blkdev {
	struct miscdevice misc;
	struct emu_dmabuf *eb;
	atomic_t open;
	char name[32];
};

static void emu_blk_session_free(struct kref *ref)
{
	struct emu_blk_session *s = container_of(ref, struct emu_blk_session, ref);

	emu_dmabuf_put_ref(s->eb);
	mutex_destroy(&s->mlock);
	kfree(s);
	emu_obj_put();
}

static void emu_mblock_free(struct kref *ref)
{
	struct emu_mblock *b = container_of(ref, struct emu_mblock, ref);
	struct emu_blk_session *s = b->s;

	emu_dmabuf_xblock_fini(&b->xb);
	vfree(b->xb.vaddr);
	kfree(b);
	kref_put(&s->ref, emu_blk_session_free);
}

static void emu_mblock_put(struct emu_mblock *b)
{
	kref_put(&b->ref, emu_mblock_free);
}

/* Called by the buffer when the block is filled, consumed or cancelled. */
static void emu_mblock_done(struct emu_xblock *xb, size_t bytes, int err)
{
	struct emu_mblock *b = container_of(xb, struct emu_mblock, xb);
	struct emu_blk_session *s = b->s;
	struct iio_buffer *buf = emu_dmabuf_to_iio(s->eb);
	size_t bpd = buf->bytes_per_datum;
	unsigned long flags;

	spin_lock_irqsave(&s->lock, flags);
	if (buf->direction == IIO_BUFFER_DIRECTION_IN)
		b->u.bytes_used = bpd ? bytes - bytes % bpd : 0;
	b->u.flags = (b->u.flags & ~EMU_BLK_FLAG_CYCLIC) | EMU_BLK_FLAG_TIMESTAMP_VALID;
	b->u.timestamp = ktime_get_ns();
	if (!b->freed) {
		b->state = EMU_BLK_DONE;
		list_add_tail(&b->out, &s->outgoing);
	}
	spin_unlock_irqrestore(&s->lock, flags);

	wake_up_all(emu_dmabuf_waitq(s->eb));
	emu_mblock_put(b);	/* the queue's reference */
}

static struct emu_mblock *emu_blk_lookup(struct emu_blk_session *s, u32 id)
{
	return id < s->nblocks ? s->blocks[id] : NULL;
}

static int emu_blk_alloc(struct emu_blk_session *s, struct emu_blk_alloc_req *req)
{
	unsigned int i, n;
	int ret = 0;

	if (!req->size || req->size > SZ_64M || !req->count)
		return -EINVAL;
	if (emu_buffer_is_active(emu_dmabuf_to_iio(s->eb)))
		return -EBUSY;
	n = min_t(unsigned int, req->count, EMU_BLK_MAX - s->nblocks);
	if (!n)
		return -ENOSPC;

	req->id = s->nblocks;
	for (i = 0; i < n; i++) {
		struct emu_mblock *b = kzalloc(sizeof(*b), GFP_KERNEL);

		if (!b) {
			ret = -ENOMEM;
			break;
		}
		b->xb.vaddr = vmalloc_user(PAGE_ALIGN(req->size));
		if (!b->xb.vaddr) {
			kfree(b);
			ret = -ENOMEM;
			break;
		}
		b->xb.done = emu_mblock_done;
		ret = emu_dmabuf_xblock_init(s->eb, &b->xb);
		if (ret) {
			vfree(b->xb.vaddr);
			kfree(b);
			break;
		}
		kref_init(&b->ref);	/* the owner list's */
		kref_get(&s->ref);
		b->s = s;
		INIT_LIST_HEAD(&b->out);
		b->state = EMU_BLK_USER;
		b->u.id = s->nblocks;
		b->u.size = req->size;
		b->u.offset = s->next_offset;
		s->next_offset += PAGE_ALIGN(req->size);
		s->blocks[s->nblocks++] = b;
	}
	req->count = i;
	/* Like ADI: a partial allocation reports what it got. */
	return i ? 0 : ret;
}

static void emu_blk_free_all(struct emu_blk_session *s)
{
	unsigned int i;

	for (i = 0; i < s->nblocks; i++) {
		struct emu_mblock *b = s->blocks[i];

		spin_lock_irq(&s->lock);
		b->freed = true;
		if (b->state == EMU_BLK_DONE)
			list_del_init(&b->out);
		s->blocks[i] = NULL;
		spin_unlock_irq(&s->lock);
		emu_mblock_put(b);	/* queue and vmas keep theirs */
	}
	s->nblocks = 0;
	s->next_offset = 0;
}

static int emu_blk_enqueue(struct emu_blk_session *s, struct emu_blk_uapi *u)
{
	struct iio_buffer *buf = emu_dmabuf_to_iio(s->eb);
	bool out = buf->direction == IIO_BUFFER_DIRECTION_OUT;
	struct emu_mblock *b = emu_blk_lookup(s, u->id);
	bool cyclic = u->flags & EMU_BLK_FLAG_CYCLIC;
	size_t used;
	int ret;

	if (!b)
		return -EINVAL;
	if (cyclic && !out)
		return -EINVAL;
	if (out && (!u->bytes_used || u->bytes_used > b->u.size))
		return -EINVAL;
	used = out ? u->bytes_used : b->u.size;

	spin_lock_irq(&s->lock);
	if (b->state != EMU_BLK_USER) {
		spin_unlock_irq(&s->lock);
		return -EBUSY;
	}
	b->state = EMU_BLK_QUEUED;
	b->u.bytes_used = used;
	b->u.flags = cyclic ? EMU_BLK_FLAG_CYCLIC : 0;
	spin_unlock_irq(&s->lock);

	kref_get(&b->ref);	/* the queue's, dropped by emu_mblock_done */
	ret = emu_dmabuf_xblock_enqueue(&b->xb, used, cyclic);
	if (ret) {
		spin_lock_irq(&s->lock);
		b->state = EMU_BLK_USER;
		spin_unlock_irq(&s->lock);
		emu_mblock_put(b);
	}
	return ret;
}

/* Hands the oldest finished block back to userspace; its fields into @u. */
static bool emu_blk_pop(struct emu_blk_session *s, struct emu_blk_uapi *u)
{
	struct emu_mblock *b;

	spin_lock_irq(&s->lock);
	b = list_first_entry_or_null(&s->outgoing, struct emu_mblock, out);
	if (b) {
		list_del_init(&b->out);
		b->state = EMU_BLK_USER;
		*u = b->u;	/* here: a concurrent FREE may drop it right after */
	}
	spin_unlock_irq(&s->lock);
	return b != NULL;
}

static bool emu_blk_ready(struct emu_blk_session *s)
{
	bool v;

	spin_lock_irq(&s->lock);
	v = !list_empty(&s->outgoing);
	spin_unlock_irq(&s->lock);
	return v;
}

static int emu_blk_dequeue(struct emu_blk_session *s, struct emu_blk_uapi *u,
			   bool nonblock)
{
	int ret;

	for (;;) {
		if (emu_dmabuf_dead(s->eb))
			return -ENODEV;
		if (emu_blk_pop(s, u))
			return 0;
		if (nonblock)
			return -EAGAIN;
		ret = wait_event_interruptible(*emu_dmabuf_waitq(s->eb),
					       emu_blk_ready(s) ||
					       emu_dmabuf_dead(s->eb));
		if (ret)
			return ret;
	}
}

static long emu_blk_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct emu_blk_session *s = f->private_data;
	void __user *p = (void __user *)arg;
	struct emu_blk_alloc_req req;
	struct emu_blk_uapi u;
	struct emu_mblock *b;
	int ret;

	switch (cmd) {
	case EMU_BLOCK_ALLOC_IOCTL:
	case EMU_BLOCK_FREE_IOCTL:
	case EMU_BLOCK_QUERY_IOCTL:
	case EMU_BLOCK_ENQUEUE_IOCTL:
	case EMU_BLOCK_DEQUEUE_IOCTL:
		break;
	default:
		return -ENOTTY;
	}
	if (emu_dmabuf_dead(s->eb))
		return -ENODEV;

	switch (cmd) {
	case EMU_BLOCK_ALLOC_IOCTL:
		if (copy_from_user(&req, p, sizeof(req)))
			return -EFAULT;
		mutex_lock(&s->mlock);
		ret = emu_blk_alloc(s, &req);
		mutex_unlock(&s->mlock);
		if (!ret && copy_to_user(p, &req, sizeof(req)))
			return -EFAULT;
		return ret;
	case EMU_BLOCK_FREE_IOCTL:
		mutex_lock(&s->mlock);
		emu_blk_free_all(s);
		mutex_unlock(&s->mlock);
		return 0;
	case EMU_BLOCK_QUERY_IOCTL:
		if (copy_from_user(&u, p, sizeof(u)))
			return -EFAULT;
		mutex_lock(&s->mlock);
		b = emu_blk_lookup(s, u.id);
		if (b) {
			spin_lock_irq(&s->lock);
			u = b->u;
			spin_unlock_irq(&s->lock);
		}
		mutex_unlock(&s->mlock);
		if (!b)
			return -EINVAL;
		return copy_to_user(p, &u, sizeof(u)) ? -EFAULT : 0;
	case EMU_BLOCK_ENQUEUE_IOCTL:
		if (copy_from_user(&u, p, sizeof(u)))
			return -EFAULT;
		mutex_lock(&s->mlock);
		ret = emu_blk_enqueue(s, &u);
		mutex_unlock(&s->mlock);
		return ret;
	case EMU_BLOCK_DEQUEUE_IOCTL:
		ret = emu_blk_dequeue(s, &u, f->f_flags & O_NONBLOCK);
		if (ret)
			return ret;
		return copy_to_user(p, &u, sizeof(u)) ? -EFAULT : 0;
	}
	return -ENOTTY;
}

static void emu_blk_vm_open(struct vm_area_struct *vma)
{
	struct emu_mblock *b = vma->vm_private_data;

	kref_get(&b->ref);
}

static void emu_blk_vm_close(struct vm_area_struct *vma)
{
	emu_mblock_put(vma->vm_private_data);
}

static const struct vm_operations_struct emu_blk_vm_ops = {
	.open = emu_blk_vm_open,
	.close = emu_blk_vm_close,
};

static int emu_blk_mmap(struct file *f, struct vm_area_struct *vma)
{
	struct emu_blk_session *s = f->private_data;
	unsigned long off = vma->vm_pgoff << PAGE_SHIFT;
	unsigned long len = vma->vm_end - vma->vm_start;
	struct emu_mblock *b = NULL;
	unsigned int i;
	int ret;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	mutex_lock(&s->mlock);
	for (i = 0; i < s->nblocks; i++) {
		if (s->blocks[i]->u.offset == off) {
			b = s->blocks[i];
			break;
		}
	}
	if (!b || len > PAGE_ALIGN(b->u.size)) {
		mutex_unlock(&s->mlock);
		return -EINVAL;
	}
	ret = remap_vmalloc_range(vma, b->xb.vaddr, 0);
	if (!ret) {
		vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
		vma->vm_private_data = b;
		vma->vm_ops = &emu_blk_vm_ops;
		kref_get(&b->ref);	/* the vma's */
	}
	mutex_unlock(&s->mlock);
	return ret;
}

static __poll_t emu_blk_poll(struct file *f, struct poll_table_struct *wait)
{
	struct emu_blk_session *s = f->private_data;
	bool in = emu_dmabuf_to_iio(s->eb)->direction == IIO_BUFFER_DIRECTION_IN;

	poll_wait(f, emu_dmabuf_waitq(s->eb), wait);
	if (emu_dmabuf_dead(s->eb))
		return EPOLLERR | EPOLLHUP;
	if (!emu_blk_ready(s))
		return 0;
	return in ? EPOLLIN | EPOLLRDNORM : EPOLLOUT | EPOLLWRNORM;
}

static int emu_blk_open(struct inode *inode, struct file *f)
{
	/* misc_open() set private_data to our miscdevice and holds misc_mtx. */
	struct emu_blkdev *d = container_of(f->private_data, struct emu_blkdev, misc);
	struct emu_blk_session *s;

	if (atomic_cmpxchg(&d->open, 0, 1) != 0)
		return -EBUSY;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s) {
		atomic_set(&d->open, 0);
		return -ENOMEM;
	}
	emu_obj_get();
	kref_init(&s->ref);
	mutex_init(&s->mlock);
	spin_lock_init(&s->lock);
	INIT_LIST_HEAD(&s->outgoing);
	s->eb = d->eb;
	emu_dmabuf_get(s->eb);
	f->private_data = s;
	return stream_open(inode, f);
}

static DEFINE_MUTEX(emu_blk_devs_lock);
static struct emu_blkdev *emu_blk_devs[2];

static int emu_blk_release(struct inode *inode, struct file *f)
{
	struct emu_blk_session *s = f->private_data;
	unsigned int i;

	mutex_lock(&s->mlock);
	emu_blk_free_all(s);
	mutex_unlock(&s->mlock);

	mutex_lock(&emu_blk_devs_lock);
	for (i = 0; i < ARRAY_SIZE(emu_blk_devs); i++)
		if (emu_blk_devs[i] && emu_blk_devs[i]->eb == s->eb)
			atomic_set(&emu_blk_devs[i]->open, 0);
	mutex_unlock(&emu_blk_devs_lock);

	kref_put(&s->ref, emu_blk_session_free);
	return 0;
}

static const struct file_operations emu_blk_fops = {
	.owner = THIS_MODULE,
	.open = emu_blk_open,
	.release = emu_blk_release,
	.unlocked_ioctl = emu_blk_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = emu_blk_mmap,
	.poll = emu_blk_poll,
	.llseek = noop_llseek,
};

static void emu_blk_chardev_remove(void *data)
{
	struct emu_blkdev *d = data;
	unsigned int i;

	/* After this no open() runs (misc_open holds misc_mtx around ->open). */
	misc_deregister(&d->misc);
	mutex_lock(&emu_blk_devs_lock);
	for (i = 0; i < ARRAY_SIZE(emu_blk_devs); i++)
		if (emu_blk_devs[i] == d)
			emu_blk_devs[i] = NULL;
	mutex_unlock(&emu_blk_devs_lock);
	emu_dmabuf_put_ref(d->eb);
	kfree(d);
}

int emu_block_chardev_add(struct device *dev, struct emu_dmabuf *eb, const char *name)
{
	struct emu_blkdev *d;
	unsigned int i;
	int ret;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	snprintf(d->name, sizeof(d->name), "%s-blocks", name);
	d->misc.minor = MISC_DYNAMIC_MINOR;
	d->misc.name = d->name;
	d->misc.fops = &emu_blk_fops;
	d->misc.mode = 0600;
	d->eb = eb;
	emu_dmabuf_get(eb);

	mutex_lock(&emu_blk_devs_lock);
	for (i = 0; i < ARRAY_SIZE(emu_blk_devs); i++) {
		if (!emu_blk_devs[i]) {
			emu_blk_devs[i] = d;
			break;
		}
	}
	mutex_unlock(&emu_blk_devs_lock);
	if (i == ARRAY_SIZE(emu_blk_devs)) {
		emu_dmabuf_put_ref(eb);
		kfree(d);
		return -ENOSPC;
	}

	ret = misc_register(&d->misc);
	if (ret) {
		mutex_lock(&emu_blk_devs_lock);
		emu_blk_devs[i] = NULL;
		mutex_unlock(&emu_blk_devs_lock);
		emu_dmabuf_put_ref(eb);
		kfree(d);
		return ret;
	}
	return devm_add_action_or_reset(dev, emu_blk_chardev_remove, d);
}

#else /* !EMU_HAVE_DMABUF: no buffer1 queue to join (6.1). */

int emu_block_chardev_add(struct device *dev, struct emu_dmabuf *eb, const char *name)
{
	return 0;
}

#endif
