// SPDX-License-Identifier: GPL-2.0
/*
 * iio_emu - a DMABUF-capable IIO buffer without a DMA engine.
 *
 * The IIO core (drivers/iio/industrialio-buffer.c, 6.11+) implements the
 * DMABUF ioctls (ATTACH, DETACH, ENQUEUE) on a buffer fd and calls into the
 * buffer's access functions.  This buffer emulates the DMA by CPU copies:
 *
 *  - attach_dmabuf: vmap the DMABUF (the core holds its reservation lock),
 *    return our block object (opaque to the core).
 *  - enqueue_dmabuf: append the block with its fence and bytes_used to our
 *    FIFO queue.  A block that is still queued cannot be queued again (-EBUSY);
 *    cyclic blocks are only accepted on output buffers (-EINVAL otherwise).
 *  - store_to (input): copy one demuxed scan into the head block at its fill
 *    offset; when the next scan would not fit into bytes_used, the block is
 *    complete and its fence is signalled with 0.  No queued block: the scan is
 *    dropped and counted.
 *  - remove_from (output): copy one scan out of the head block; at its end a
 *    non-cyclic block is completed; a cyclic block wraps to its start (and
 *    counts a wrap) unless another block is queued behind it, in which case it
 *    is completed and the next block takes over.  Nothing queued: -EBUSY.
 *  - disable (any buffer reconfiguration of the device) and device removal:
 *    every queued block is cancelled (fence error -ECANCELED resp. -ENODEV).
 *
 * A scan is never split across blocks: a block holds floor(bytes_used /
 * bytes_per_datum) scans; a block smaller than one scan completes with
 * -EINVAL.
 *
 * Free-running devices (emu-adc mode 2, emu-dac emu_free_running=1) bypass
 * store_to/remove_from and work on whole blocks from their kernel thread:
 * emu_dmabuf_head() hands out the head block's mapping, the thread fills or
 * consumes it in bulk, and emu_dmabuf_head_done() completes it.  Enqueue bumps
 * a sequence number and wakes @wq, so the thread sleeps until there is work
 * (emu_dmabuf_wait()).  The head block may be used outside @lock because only
 * that thread takes blocks off the queue while it runs: the core disables the
 * buffers (which cancels queued blocks) only after the device's predisable
 * has stopped the thread.
 *
 * Locking: @queue_mutex is the core's lock_queue/unlock_queue (serialises
 * enqueues so fence order equals queue order).  @lock (spinlock) protects the
 * queue and the counters; it is taken from the trigger's threaded handler
 * (store_to/remove_from), the ENQUEUE ioctl and disable.  Fences are
 * signalled outside @lock.
 *
 * Lifetime: the IIO core frees a buffer when the last reference of the IIO
 * device goes, which may be after unbind (a buffer fd still open), and calls
 * detach_dmabuf from a work item after a fence was signalled.  Each block
 * holds a reference on its emu_dmabuf, so the iio_buffer (and its access
 * pointer) stays valid until the last block is detached; module exit waits
 * for all of them (emu_obj_get/put).
 */
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/iosys-map.h>
#include <linux/kref.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/wait.h>

#include <linux/iio/iio.h>
#include <linux/iio/buffer.h>
#include <linux/iio/buffer_impl.h>

#include "emu.h"

#if EMU_HAVE_DMABUF

struct emu_block {
	struct emu_dmabuf *eb;
	struct dma_buf_attachment *attach;	/* NULL for an mmap block */
	struct iosys_map map;
	struct emu_xblock *x;			/* the mmap block (emu_block.c), or NULL */

	/* Below: P: eb->lock */
	struct list_head entry;
	bool queued;
	bool cyclic;
	struct dma_fence *fence;
	struct sg_table *sgt;
	size_t bytes_used;
	size_t offset;
};

struct emu_dmabuf {
	struct iio_buffer buffer;	/* first: the core hands us this */
	struct kref ref;		/* 1 for the iio_buffer, 1 per block */
	struct mutex queue_mutex;	/* the core's lock_queue() */
	spinlock_t lock;
	struct list_head queue;		/* P: lock */
	bool dead;			/* P: lock; device removed */
	u64 dropped;			/* P: lock; input scans without a block */
	u64 seen;			/* P: lock; input scans offered, never reset */
	u64 wraps;			/* P: lock; output cyclic wraps */
	u64 enq_seq;			/* P: lock; successful enqueues, never reset */
	wait_queue_head_t wq;		/* woken on every successful enqueue */
};

static struct emu_dmabuf *to_emu_dmabuf(struct iio_buffer *buffer)
{
	return container_of(buffer, struct emu_dmabuf, buffer);
}

static struct emu_block *to_emu_block(struct iio_dma_buffer_block *block)
{
	return (struct emu_block *)block;
}

bool emu_buffer_is_active(struct iio_buffer *buffer)
{
	return buffer && !list_empty(&buffer->buffer_list);
}

static void emu_dmabuf_free(struct kref *ref)
{
	struct emu_dmabuf *eb = container_of(ref, struct emu_dmabuf, ref);

	mutex_destroy(&eb->queue_mutex);
	kfree(eb);
	emu_obj_put();
}

static void emu_dmabuf_put(struct emu_dmabuf *eb)
{
	kref_put(&eb->ref, emu_dmabuf_free);
}

/* Called with eb->lock held: take @blk off the queue, return its fence. */
static struct dma_fence *emu_block_unqueue(struct emu_block *blk)
{
	struct dma_fence *fence = blk->fence;

	list_del_init(&blk->entry);
	blk->fence = NULL;
	blk->sgt = NULL;
	blk->queued = false;
	return fence;
}

/*
 * Completes a block taken off the queue: a DMABUF's fence, or an mmap block's
 * callback (which may free the block: @blk is not touched afterwards).
 */
static void emu_block_signal(struct emu_block *blk, struct dma_fence *fence,
			     int err)
{
	if (blk->x)
		blk->x->done(blk->x, blk->offset, err);
	else
		iio_buffer_signal_dmabuf_done(fence, err);
}

static void emu_dmabuf_cancel_all(struct emu_dmabuf *eb, int err)
{
	struct emu_block *blk, *tmp;
	struct dma_fence *fence;
	LIST_HEAD(local);

	spin_lock(&eb->lock);
	list_splice_init(&eb->queue, &local);
	spin_unlock(&eb->lock);

	/*
	 * The blocks stay marked queued until their fence is taken, so a
	 * concurrent ENQUEUE of the same block gets -EBUSY instead of touching
	 * ->entry while it is on our private list.
	 */
	list_for_each_entry_safe(blk, tmp, &local, entry) {
		spin_lock(&eb->lock);
		fence = emu_block_unqueue(blk);
		spin_unlock(&eb->lock);
		emu_block_signal(blk, fence, err);
	}
}

static int emu_dmabuf_store_to(struct iio_buffer *buffer, const void *data)
{
	struct emu_dmabuf *eb = to_emu_dmabuf(buffer);
	size_t bpd = buffer->bytes_per_datum;
	struct emu_block *blk;
	struct dma_fence *fence;
	struct sg_table *sgt;
	struct device *dev;

	if (!bpd)
		return 0;

	spin_lock(&eb->lock);
	eb->seen++;
	spin_unlock(&eb->lock);

	for (;;) {
		spin_lock(&eb->lock);
		blk = list_first_entry_or_null(&eb->queue, struct emu_block,
					       entry);
		if (!blk) {
			eb->dropped++;
			spin_unlock(&eb->lock);
			/* Not an error for the core: other buffers still get the scan. */
			return 0;
		}
		if (blk->bytes_used < bpd) {
			fence = emu_block_unqueue(blk);
			spin_unlock(&eb->lock);
			emu_block_signal(blk, fence, -EINVAL);
			continue;
		}

		memcpy(blk->map.vaddr + blk->offset, data, bpd);
		blk->offset += bpd;

		if (blk->offset + bpd <= blk->bytes_used) {
			spin_unlock(&eb->lock);
			return 0;
		}

		/* Block full: complete it. */
		dev = blk->attach ? blk->attach->dev : NULL;
		sgt = blk->sgt;
		fence = emu_block_unqueue(blk);
		spin_unlock(&eb->lock);

		/* Our CPU writes must reach memory before userspace's SYNC_START. */
		if (dev)
			dma_sync_sgtable_for_device(dev, sgt, DMA_FROM_DEVICE);
		emu_block_signal(blk, fence, 0);
		return 0;
	}
}

static int emu_dmabuf_remove_from(struct iio_buffer *buffer, void *data)
{
	struct emu_dmabuf *eb = to_emu_dmabuf(buffer);
	size_t bpd = buffer->bytes_per_datum;
	struct dma_fence *fence = NULL;
	struct emu_block *blk;
	bool done = false;

	if (!bpd)
		return -EINVAL;

	for (;;) {
		spin_lock(&eb->lock);
		blk = list_first_entry_or_null(&eb->queue, struct emu_block,
					       entry);
		if (!blk) {
			spin_unlock(&eb->lock);
			return -EBUSY;
		}
		if (blk->bytes_used < bpd) {
			fence = emu_block_unqueue(blk);
			spin_unlock(&eb->lock);
			emu_block_signal(blk, fence, -EINVAL);
			continue;
		}

		memcpy(data, blk->map.vaddr + blk->offset, bpd);
		blk->offset += bpd;

		if (blk->offset + bpd > blk->bytes_used) {
			if (blk->cyclic && list_is_singular(&eb->queue)) {
				blk->offset = 0;
				eb->wraps++;
			} else {
				fence = emu_block_unqueue(blk);
				done = true;
			}
		}
		spin_unlock(&eb->lock);

		if (done)
			emu_block_signal(blk, fence, 0);
		return 0;
	}
}

static size_t emu_dmabuf_data_available(struct iio_buffer *buffer)
{
	/* Data leaves this buffer only through DMABUF blocks, never read(). */
	return 0;
}

static int emu_dmabuf_set_bytes_per_datum(struct iio_buffer *buffer,
					  size_t bpd)
{
	buffer->bytes_per_datum = bpd;
	return 0;
}

static int emu_dmabuf_set_length(struct iio_buffer *buffer,
				 unsigned int length)
{
	/* Accepted for tools that always set it; blocks define the capacity. */
	buffer->length = length;
	return 0;
}

static int emu_dmabuf_enable(struct iio_buffer *buffer,
			     struct iio_dev *indio_dev)
{
	return 0;
}

static int emu_dmabuf_disable(struct iio_buffer *buffer,
			      struct iio_dev *indio_dev)
{
	emu_dmabuf_cancel_all(to_emu_dmabuf(buffer), -ECANCELED);
	return 0;
}

static void emu_dmabuf_release(struct iio_buffer *buffer)
{
	emu_dmabuf_put(to_emu_dmabuf(buffer));
}

static struct iio_dma_buffer_block *
emu_dmabuf_attach_dmabuf(struct iio_buffer *buffer,
			 struct dma_buf_attachment *attach)
{
	struct emu_dmabuf *eb = to_emu_dmabuf(buffer);
	struct emu_block *blk;
	bool dead;
	int ret;

	spin_lock(&eb->lock);
	dead = eb->dead;
	spin_unlock(&eb->lock);
	if (dead)
		return ERR_PTR(-ENODEV);

	blk = kzalloc(sizeof(*blk), GFP_KERNEL);
	if (!blk)
		return ERR_PTR(-ENOMEM);

	/* The core holds attach->dmabuf->resv here, as dma_buf_vmap() wants. */
	ret = dma_buf_vmap(attach->dmabuf, &blk->map);
	if (ret) {
		kfree(blk);
		return ERR_PTR(ret);
	}
	if (blk->map.is_iomem) {
		dma_buf_vunmap(attach->dmabuf, &blk->map);
		kfree(blk);
		return ERR_PTR(-EOPNOTSUPP);
	}

	INIT_LIST_HEAD(&blk->entry);
	blk->attach = attach;
	blk->eb = eb;
	kref_get(&eb->ref);

	return (struct iio_dma_buffer_block *)blk;
}

static void emu_dmabuf_detach_dmabuf(struct iio_buffer *buffer,
				     struct iio_dma_buffer_block *block)
{
	struct emu_block *blk = to_emu_block(block);
	struct emu_dmabuf *eb = blk->eb;

	/*
	 * Every queued block holds a reference on its attachment through its
	 * fence, so a block being detached is never queued.
	 */
	WARN_ON_ONCE(blk->queued);

	/* Called without the reservation lock. */
	dma_buf_vunmap_unlocked(blk->attach->dmabuf, &blk->map);
	kfree(blk);
	emu_dmabuf_put(eb);
}

static int emu_dmabuf_enqueue_dmabuf(struct iio_buffer *buffer,
				     struct iio_dma_buffer_block *block,
				     struct dma_fence *fence,
				     struct sg_table *sgt,
				     size_t size, bool cyclic)
{
	struct emu_dmabuf *eb = to_emu_dmabuf(buffer);
	struct emu_block *blk = to_emu_block(block);
	int ret = 0;

	/* The core checks this too; an input cannot repeat a block. */
	if (cyclic && buffer->direction != IIO_BUFFER_DIRECTION_OUT)
		return -EINVAL;

	/* In the fence signalling section: no allocation, no sleeping lock. */
	spin_lock(&eb->lock);
	if (eb->dead) {
		ret = -ENODEV;
	} else if (blk->queued) {
		ret = -EBUSY;
	} else {
		blk->fence = fence;
		blk->sgt = sgt;
		blk->bytes_used = size;
		blk->offset = 0;
		blk->cyclic = cyclic;
		blk->queued = true;
		list_add_tail(&blk->entry, &eb->queue);
		eb->enq_seq++;
	}
	spin_unlock(&eb->lock);

	/* A free-running thread fills/consumes it (a spinlock only: allowed here). */
	if (!ret)
		wake_up(&eb->wq);

	return ret;
}

static void emu_dmabuf_lock_queue(struct iio_buffer *buffer)
{
	mutex_lock(&to_emu_dmabuf(buffer)->queue_mutex);
}

static void emu_dmabuf_unlock_queue(struct iio_buffer *buffer)
{
	mutex_unlock(&to_emu_dmabuf(buffer)->queue_mutex);
}

static const struct iio_buffer_access_funcs emu_dmabuf_access = {
	.store_to = emu_dmabuf_store_to,
	.remove_from = emu_dmabuf_remove_from,
	.data_available = emu_dmabuf_data_available,
	.set_bytes_per_datum = emu_dmabuf_set_bytes_per_datum,
	.set_length = emu_dmabuf_set_length,
	.enable = emu_dmabuf_enable,
	.disable = emu_dmabuf_disable,
	.release = emu_dmabuf_release,
	.attach_dmabuf = emu_dmabuf_attach_dmabuf,
	.detach_dmabuf = emu_dmabuf_detach_dmabuf,
	.enqueue_dmabuf = emu_dmabuf_enqueue_dmabuf,
	.lock_queue = emu_dmabuf_lock_queue,
	.unlock_queue = emu_dmabuf_unlock_queue,
	.modes = INDIO_BUFFER_TRIGGERED | INDIO_BUFFER_SOFTWARE,
};

/* devm action, runs after iio_device_unregister(): no more scans or enables. */
static void emu_dmabuf_teardown(void *data)
{
	struct emu_dmabuf *eb = data;

	spin_lock(&eb->lock);
	eb->dead = true;
	spin_unlock(&eb->lock);
	/* Blocks queued on a buffer that was never enabled, or after disable. */
	emu_dmabuf_cancel_all(eb, -ENODEV);
	/* mmap block sessions sleeping in DEQUEUE or poll() see the removal. */
	wake_up_all(&eb->wq);
	/* Our creation reference; the IIO device keeps its own until released. */
	iio_buffer_put(&eb->buffer);
}

struct emu_dmabuf *emu_dmabuf_attach_new(struct device *dev,
					 struct iio_dev *indio_dev,
					 enum iio_buffer_direction dir)
{
	struct emu_dmabuf *eb;
	int ret;

	eb = kzalloc(sizeof(*eb), GFP_KERNEL);
	if (!eb)
		return ERR_PTR(-ENOMEM);

	emu_obj_get();
	kref_init(&eb->ref);
	mutex_init(&eb->queue_mutex);
	spin_lock_init(&eb->lock);
	INIT_LIST_HEAD(&eb->queue);
	init_waitqueue_head(&eb->wq);

	eb->buffer.access = &emu_dmabuf_access;
	eb->buffer.direction = dir;
	eb->buffer.length = 64;
	iio_buffer_init(&eb->buffer);

	ret = iio_device_attach_buffer(indio_dev, &eb->buffer);
	if (ret) {
		iio_buffer_put(&eb->buffer);
		return ERR_PTR(ret);
	}

	ret = devm_add_action_or_reset(dev, emu_dmabuf_teardown, eb);
	if (ret)
		return ERR_PTR(ret);

	/* Torn down before emu_dmabuf_teardown (devm runs in reverse). */
	ret = emu_block_chardev_add(dev, eb, indio_dev->name);
	if (ret)
		return ERR_PTR(ret);

	return eb;
}

struct iio_buffer *emu_dmabuf_to_iio(struct emu_dmabuf *eb)
{
	return &eb->buffer;
}

u64 emu_dmabuf_dropped(struct emu_dmabuf *eb)
{
	u64 v;

	spin_lock(&eb->lock);
	v = eb->dropped;
	spin_unlock(&eb->lock);
	return v;
}

u64 emu_dmabuf_seen(struct emu_dmabuf *eb)
{
	u64 v;

	spin_lock(&eb->lock);
	v = eb->seen;
	spin_unlock(&eb->lock);
	return v;
}

u64 emu_dmabuf_wraps(struct emu_dmabuf *eb)
{
	u64 v;

	spin_lock(&eb->lock);
	v = eb->wraps;
	spin_unlock(&eb->lock);
	return v;
}

void emu_dmabuf_reset_stats(struct emu_dmabuf *eb)
{
	spin_lock(&eb->lock);
	eb->dropped = 0;
	eb->wraps = 0;
	spin_unlock(&eb->lock);
}

/* ------------------------------------------------ free-running (bulk) access */

u64 emu_dmabuf_enq_seq(struct emu_dmabuf *eb)
{
	u64 v;

	spin_lock(&eb->lock);
	v = eb->enq_seq;
	spin_unlock(&eb->lock);
	return v;
}

void emu_dmabuf_wait(struct emu_dmabuf *eb, u64 seq, u64 timeout_ns)
{
	/* Interruptible: a kthread ignores signals, and it keeps the load average honest. */
	wait_event_interruptible_hrtimeout(eb->wq,
					   emu_dmabuf_enq_seq(eb) != seq ||
					   kthread_should_stop(),
					   ns_to_ktime(timeout_ns));
}

bool emu_dmabuf_head(struct emu_dmabuf *eb, struct emu_dmabuf_blk *out)
{
	size_t bpd = eb->buffer.bytes_per_datum;
	struct emu_block *blk;
	struct dma_fence *fence;

	for (;;) {
		spin_lock(&eb->lock);
		blk = list_first_entry_or_null(&eb->queue, struct emu_block,
					       entry);
		if (!blk) {
			spin_unlock(&eb->lock);
			return false;
		}
		if (!bpd || blk->bytes_used < blk->offset + bpd) {
			/* Smaller than one scan: as in store_to/remove_from. */
			fence = emu_block_unqueue(blk);
			spin_unlock(&eb->lock);
			emu_block_signal(blk, fence, -EINVAL);
			continue;
		}
		out->id = blk;
		out->vaddr = blk->map.vaddr + blk->offset;
		out->nscans = (blk->bytes_used - blk->offset) / bpd;
		out->cyclic = blk->cyclic;
		spin_unlock(&eb->lock);
		return true;
	}
}

bool emu_dmabuf_head_has_next(struct emu_dmabuf *eb)
{
	bool v;

	spin_lock(&eb->lock);
	v = !list_empty(&eb->queue) && !list_is_singular(&eb->queue);
	spin_unlock(&eb->lock);
	return v;
}

bool emu_dmabuf_queued(struct emu_dmabuf *eb)
{
	bool v;

	spin_lock(&eb->lock);
	v = !list_empty(&eb->queue);
	spin_unlock(&eb->lock);
	return v;
}

void emu_dmabuf_count_wrap(struct emu_dmabuf *eb)
{
	spin_lock(&eb->lock);
	eb->wraps++;
	spin_unlock(&eb->lock);
}

void emu_dmabuf_head_done(struct emu_dmabuf *eb, int err)
{
	struct emu_block *blk;
	struct dma_fence *fence;
	struct sg_table *sgt;
	struct device *dev;

	spin_lock(&eb->lock);
	blk = list_first_entry_or_null(&eb->queue, struct emu_block, entry);
	if (!blk) {
		spin_unlock(&eb->lock);
		return;
	}
	blk->offset = blk->bytes_used;
	dev = blk->attach ? blk->attach->dev : NULL;
	sgt = blk->sgt;
	fence = emu_block_unqueue(blk);
	spin_unlock(&eb->lock);

	/* Input: our CPU writes must reach memory before userspace's SYNC_START. */
	if (dev && eb->buffer.direction == IIO_BUFFER_DIRECTION_IN && !err)
		dma_sync_sgtable_for_device(dev, sgt, DMA_FROM_DEVICE);
	emu_block_signal(blk, fence, err);
}

/* ------------------------------------------------ mmap blocks (emu_block.c) */

void emu_dmabuf_get(struct emu_dmabuf *eb)
{
	kref_get(&eb->ref);
}

void emu_dmabuf_put_ref(struct emu_dmabuf *eb)
{
	emu_dmabuf_put(eb);
}

bool emu_dmabuf_dead(struct emu_dmabuf *eb)
{
	bool v;

	spin_lock(&eb->lock);
	v = eb->dead;
	spin_unlock(&eb->lock);
	return v;
}

wait_queue_head_t *emu_dmabuf_waitq(struct emu_dmabuf *eb)
{
	return &eb->wq;
}

int emu_dmabuf_xblock_init(struct emu_dmabuf *eb, struct emu_xblock *xb)
{
	struct emu_block *blk = kzalloc(sizeof(*blk), GFP_KERNEL);

	if (!blk)
		return -ENOMEM;
	INIT_LIST_HEAD(&blk->entry);
	iosys_map_set_vaddr(&blk->map, xb->vaddr);
	blk->x = xb;
	blk->eb = eb;
	kref_get(&eb->ref);
	xb->priv = blk;
	return 0;
}

void emu_dmabuf_xblock_fini(struct emu_xblock *xb)
{
	struct emu_block *blk = xb->priv;
	struct emu_dmabuf *eb = blk->eb;

	/* The caller holds a reference for as long as the block is queued. */
	WARN_ON_ONCE(blk->queued);
	kfree(blk);
	xb->priv = NULL;
	emu_dmabuf_put(eb);
}

int emu_dmabuf_xblock_enqueue(struct emu_xblock *xb, size_t bytes_used,
			      bool cyclic)
{
	struct emu_block *blk = xb->priv;
	struct emu_dmabuf *eb = blk->eb;
	int ret = 0;

	if (cyclic && eb->buffer.direction != IIO_BUFFER_DIRECTION_OUT)
		return -EINVAL;

	spin_lock(&eb->lock);
	if (eb->dead) {
		ret = -ENODEV;
	} else if (blk->queued) {
		ret = -EBUSY;
	} else {
		blk->bytes_used = bytes_used;
		blk->offset = 0;
		blk->cyclic = cyclic;
		blk->queued = true;
		list_add_tail(&blk->entry, &eb->queue);
		eb->enq_seq++;
	}
	spin_unlock(&eb->lock);
	if (!ret)
		wake_up(&eb->wq);
	return ret;
}

#else /* !EMU_HAVE_DMABUF: buffer1 is a kfifo, the block interface is empty. */

#include <linux/delay.h>
#include <linux/iio/kfifo_buf.h>

struct emu_dmabuf {
	struct iio_buffer *buffer;
};

bool emu_buffer_is_active(struct iio_buffer *buffer)
{
	return buffer && !list_empty(&buffer->buffer_list);
}

static void emu_dmabuf_teardown(void *data)
{
	struct emu_dmabuf *eb = data;

	iio_kfifo_free(eb->buffer);	/* our reference; the device holds its own */
	kfree(eb);
}

struct emu_dmabuf *emu_dmabuf_attach_new(struct device *dev,
					 struct iio_dev *indio_dev,
					 enum iio_buffer_direction dir)
{
	struct emu_dmabuf *eb;
	int ret;

	eb = kzalloc(sizeof(*eb), GFP_KERNEL);
	if (!eb)
		return ERR_PTR(-ENOMEM);
	eb->buffer = iio_kfifo_allocate();
	if (!eb->buffer) {
		kfree(eb);
		return ERR_PTR(-ENOMEM);
	}
	eb->buffer->direction = dir;
	ret = iio_device_attach_buffer(indio_dev, eb->buffer);
	if (ret) {
		emu_dmabuf_teardown(eb);
		return ERR_PTR(ret);
	}
	ret = devm_add_action_or_reset(dev, emu_dmabuf_teardown, eb);
	return ret ? ERR_PTR(ret) : eb;
}

struct iio_buffer *emu_dmabuf_to_iio(struct emu_dmabuf *eb)
{
	return eb->buffer;
}

u64 emu_dmabuf_dropped(struct emu_dmabuf *eb) { return 0; }
u64 emu_dmabuf_seen(struct emu_dmabuf *eb) { return 0; }
u64 emu_dmabuf_wraps(struct emu_dmabuf *eb) { return 0; }
void emu_dmabuf_reset_stats(struct emu_dmabuf *eb) { }
u64 emu_dmabuf_enq_seq(struct emu_dmabuf *eb) { return 0; }

void emu_dmabuf_wait(struct emu_dmabuf *eb, u64 seq, u64 timeout_ns)
{
	/* Nothing can be enqueued: just the timeout (the callers' poll interval). */
	if (!kthread_should_stop())
		usleep_range(div_u64(timeout_ns, 1000) + 1, div_u64(timeout_ns, 1000) + 50);
}

bool emu_dmabuf_head(struct emu_dmabuf *eb, struct emu_dmabuf_blk *out) { return false; }
bool emu_dmabuf_head_has_next(struct emu_dmabuf *eb) { return false; }
bool emu_dmabuf_queued(struct emu_dmabuf *eb) { return false; }
void emu_dmabuf_count_wrap(struct emu_dmabuf *eb) { }
void emu_dmabuf_head_done(struct emu_dmabuf *eb, int err) { }

#endif /* EMU_HAVE_DMABUF */
