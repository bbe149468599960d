/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iio_emu - emulated IIO devices for the node-red-contrib-iio test harness.
 * Shared declarations between the parts of the module.
 */
#ifndef IIO_EMU_H
#define IIO_EMU_H

#include <linux/types.h>
#include <linux/version.h>
#include <linux/iio/buffer.h>
#include <linux/iio/iio.h>
#include <linux/wait.h>

/*
 * Kernels before 6.11 (Debian bookworm's 6.1 on arm64/armhf) have no IIO DMABUF
 * interface: there buffer1 of emu-adc and emu-dac is a plain kfifo (read() and
 * write() through the trigger; the free-running modes serve buffer0 only).
 */
#define EMU_HAVE_DMABUF (LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0))

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

#ifndef iio_for_each_active_channel	/* 6.11 */
#define iio_for_each_active_channel(indio_dev, chan) \
	for_each_set_bit((chan), (indio_dev)->active_scan_mask, (indio_dev)->masklength)
#endif
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
static inline unsigned int iio_get_masklength(const struct iio_dev *indio_dev)
{
	return indio_dev->masklength;
}
#endif

struct device;
struct iio_dev;
struct emu_dmabuf;

/* Objects that may outlive their device (buffers, DMABUF blocks) are counted so
 * module exit can wait for them: their release callbacks live in this module. */
void emu_obj_get(void);
void emu_obj_put(void);

/* The DMABUF-capable buffer (emu_dmabuf.c). */
struct emu_dmabuf *emu_dmabuf_attach_new(struct device *dev,
					 struct iio_dev *indio_dev,
					 enum iio_buffer_direction dir);
struct iio_buffer *emu_dmabuf_to_iio(struct emu_dmabuf *eb);
u64 emu_dmabuf_dropped(struct emu_dmabuf *eb);
u64 emu_dmabuf_seen(struct emu_dmabuf *eb);
u64 emu_dmabuf_wraps(struct emu_dmabuf *eb);
void emu_dmabuf_reset_stats(struct emu_dmabuf *eb);

/*
 * Free-running (bulk) access from the device's kernel thread while the buffer
 * is enabled: that thread alone takes blocks off the queue, so the head block
 * stays valid between emu_dmabuf_head() and emu_dmabuf_head_done().
 */
struct emu_dmabuf_blk {
	const void *id;		/* identifies the block while it is queued */
	void *vaddr;		/* first unused scan of the block */
	size_t nscans;		/* whole scans from vaddr to bytes_used */
	bool cyclic;
};
/* The head block; false if nothing is queued (blocks < 1 scan: -EINVAL). */
bool emu_dmabuf_head(struct emu_dmabuf *eb, struct emu_dmabuf_blk *out);
/* Complete the head block with @err (0: input blocks are synced for the device first). */
void emu_dmabuf_head_done(struct emu_dmabuf *eb, int err);
/* Another block is queued behind the head. */
bool emu_dmabuf_head_has_next(struct emu_dmabuf *eb);
bool emu_dmabuf_queued(struct emu_dmabuf *eb);
void emu_dmabuf_count_wrap(struct emu_dmabuf *eb);
/* Enqueue counter, and a sleep until it moves past @seq, the thread is asked
 * to stop, or @timeout_ns passes. */
u64 emu_dmabuf_enq_seq(struct emu_dmabuf *eb);
void emu_dmabuf_wait(struct emu_dmabuf *eb, u64 seq, u64 timeout_ns);

/*
 * An mmap block (emu_block.c) queued on an emu_dmabuf like a DMABUF: filled or
 * consumed by the same paths, completed through @done instead of a fence.
 * @done runs in process context without our locks, once per enqueue, with the
 * bytes filled (input) and 0 or a negative errno (-ECANCELED on disable,
 * -ENODEV on removal, -EINVAL smaller than a scan); it may free the block.
 */
struct emu_xblock {
	void *vaddr;
	void (*done)(struct emu_xblock *xb, size_t bytes, int err);
	void *priv;		/* emu_dmabuf.c's */
};
int emu_dmabuf_xblock_init(struct emu_dmabuf *eb, struct emu_xblock *xb);
void emu_dmabuf_xblock_fini(struct emu_xblock *xb);	/* not while queued */
int emu_dmabuf_xblock_enqueue(struct emu_xblock *xb, size_t bytes_used, bool cyclic);
void emu_dmabuf_get(struct emu_dmabuf *eb);
void emu_dmabuf_put_ref(struct emu_dmabuf *eb);
bool emu_dmabuf_dead(struct emu_dmabuf *eb);
/* Woken on every enqueue and on removal: block sessions wait here too. */
wait_queue_head_t *emu_dmabuf_waitq(struct emu_dmabuf *eb);

/* The block-API chardev /dev/<name>-blocks for buffer1 (emu_block.c). */
int emu_block_chardev_add(struct device *dev, struct emu_dmabuf *eb, const char *name);

/* True while @buffer is enabled (on the device's list of active buffers). Only
 * stable when called from the trigger handler, a free-running thread (started
 * in postenable, stopped in predisable) or under the device's mlock. */
bool emu_buffer_is_active(struct iio_buffer *buffer);

int emu_thermo_probe(struct device *dev);
int emu_adc_probe(struct device *dev);
int emu_dac_probe(struct device *dev);
int emu_mux_probe(struct device *dev);

#endif /* IIO_EMU_H */
