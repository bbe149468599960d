// SPDX-License-Identifier: GPL-2.0
/*
 * iio_emu - emu-dac: an emulated 2-channel DAC whose output buffers are
 * consumed at trigger rate.
 *
 * Each trigger pops one scan from every enabled output buffer (buffer0: kfifo
 * filled by write(); buffer1: DMABUF blocks, cyclic allowed) and accounts for
 * it: consumed bytes and scans, a zlib-compatible CRC-32 over all consumed
 * bytes in order, and the channels' raw values (last sample output).  A
 * trigger that finds an enabled buffer empty counts an underrun.
 *
 * With emu_free_running = 1 the buffers can be enabled without a trigger and
 * a kernel thread consumes as fast as data arrives: it drains buffer0's kfifo
 * (polling it, 20 us doubling to 2 ms while it stays empty) and consumes each
 * DMABUF block of buffer1 at once when it is enqueued; a cyclic block is
 * repeated at most once per millisecond until another block is queued behind
 * it.  The accounting is the same as with a trigger (no underruns: there is no
 * trigger to miss).
 */
#include <linux/crc32.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include <linux/iio/iio.h>
#include <linux/iio/buffer.h>
#include <linux/iio/buffer_impl.h>
#include <linux/iio/sysfs.h>
#include <linux/iio/trigger_consumer.h>
#include <linux/iio/triggered_buffer.h>

#include "emu.h"

#define EMU_DAC_NUM_CHANNELS	2
#define EMU_DAC_SCAN_MAX	16
/* Free-running: scans popped from the kfifo per accounting step. */
#define EMU_DAC_BATCH		256
#define EMU_DAC_POLL_MIN_NS	(20 * NSEC_PER_USEC)
#define EMU_DAC_POLL_MAX_NS	(2 * NSEC_PER_MSEC)
#define EMU_DAC_IDLE_NS		(100 * NSEC_PER_MSEC)
/* A cyclic block repeats at most once per this period in free-running mode. */
#define EMU_DAC_CYCLIC_NS	NSEC_PER_MSEC

#define EMU_DAC_CHANNEL(_idx) {						\
	.type = IIO_VOLTAGE,						\
	.output = 1,							\
	.indexed = 1,							\
	.channel = (_idx),						\
	.scan_index = (_idx),						\
	.info_mask_separate = BIT(IIO_CHAN_INFO_RAW),			\
	.info_mask_shared_by_type = BIT(IIO_CHAN_INFO_SCALE),		\
	.scan_type = {							\
		.sign = 's',						\
		.realbits = 16,						\
		.storagebits = 16,					\
		.shift = 0,						\
		.endianness = IIO_LE,					\
	},								\
}

static const struct iio_chan_spec emu_dac_channels[] = {
	EMU_DAC_CHANNEL(0),
	EMU_DAC_CHANNEL(1),
};

struct emu_dac {
	struct iio_dev *indio_dev;
	struct emu_dmabuf *b1;
	struct mutex lock;		/* everything below */
	s16 raw[EMU_DAC_NUM_CHANNELS];
	u64 bytes;
	u64 scans;
	u64 underruns;
	u32 crc;			/* crc32_le state, reported as crc ^ ~0 */
	bool free_running;
	struct task_struct *fr_task;	/* set/cleared under the core's mlock */
	u8 scan[EMU_DAC_SCAN_MAX] __aligned(8);
	u8 batch[EMU_DAC_BATCH * EMU_DAC_SCAN_MAX];	/* free-running thread only */
};

/*
 * Accounts @count consecutive scans of @buf at @data (in order); the last one
 * becomes the channels' raw values.  Called with st->lock held.
 */
static void emu_dac_account(struct emu_dac *st, struct iio_buffer *buf,
			    const u8 *data, size_t count)
{
	size_t bpd = buf->bytes_per_datum;
	const u8 *last = data + (count - 1) * bpd;
	unsigned int si, off = 0;

	st->bytes += count * bpd;
	st->scans += count;
	st->crc = crc32_le(st->crc, data, count * bpd);

	for_each_set_bit(si, buf->scan_mask, EMU_DAC_NUM_CHANNELS) {
		if (off + 2 > bpd)
			break;
		st->raw[si] = (s16)get_unaligned_le16(last + off);
		off += 2;
	}
}

/* Called with st->lock held. */
static void emu_dac_consume(struct emu_dac *st, struct iio_buffer *buf)
{
	emu_dac_account(st, buf, st->scan, 1);
}

static irqreturn_t emu_dac_trigger_handler(int irq, void *p)
{
	struct iio_poll_func *pf = p;
	struct iio_dev *indio_dev = pf->indio_dev;
	struct emu_dac *st = iio_priv(indio_dev);
	struct iio_buffer *bufs[] = {
		indio_dev->buffer, emu_dmabuf_to_iio(st->b1),
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bufs); i++) {
		struct iio_buffer *buf = bufs[i];
		int ret;

		if (!emu_buffer_is_active(buf) ||
		    buf->bytes_per_datum > sizeof(st->scan))
			continue;

		mutex_lock(&st->lock);
		ret = iio_pop_from_buffer(buf, st->scan);
		if (ret)
			st->underruns++;
		else
			emu_dac_consume(st, buf);
		mutex_unlock(&st->lock);
	}

	iio_trigger_notify_done(indio_dev->trig);
	return IRQ_HANDLED;
}

/* Free-running: pop whatever buffer0's kfifo holds (a batch at a time). */
static bool emu_dac_drain_kfifo(struct emu_dac *st, struct iio_buffer *b0)
{
	size_t bpd = b0->bytes_per_datum;
	unsigned int n = 0;

	while (n < EMU_DAC_BATCH && !iio_pop_from_buffer(b0, st->batch + n * bpd))
		n++;
	if (!n)
		return false;
	mutex_lock(&st->lock);
	emu_dac_account(st, b0, st->batch, n);
	mutex_unlock(&st->lock);
	return true;
}

/* One pass over a DMABUF block, accounted in pieces of at most 256 KiB. */
static void emu_dac_consume_block(struct emu_dac *st, struct iio_buffer *b1,
				  const struct emu_dmabuf_blk *blk)
{
	size_t bpd = b1->bytes_per_datum;
	size_t step = max_t(size_t, SZ_256K / bpd, 1);
	const u8 *p = blk->vaddr;
	size_t done, cnt;

	for (done = 0; done < blk->nscans; done += cnt) {
		cnt = min(blk->nscans - done, step);
		mutex_lock(&st->lock);
		emu_dac_account(st, b1, p + done * bpd, cnt);
		mutex_unlock(&st->lock);
		if (done + cnt < blk->nscans)
			cond_resched();
	}
}

/*
 * Free-running: the head DMABUF block of buffer1.  A plain block is consumed
 * whole and completed.  A cyclic block is consumed one pass at a time; after
 * a pass it completes if another block is queued behind it, else it wraps
 * (counted just before its next pass), at most once per EMU_DAC_CYCLIC_NS.
 * Returns true if it did something, else the nanoseconds until it may
 * (*wait_ns, unchanged if nothing is queued).
 */
static bool emu_dac_run_block(struct emu_dac *st, struct iio_buffer *b1,
			      const void **cyc_id, ktime_t *cyc_next,
			      u64 *wait_ns)
{
	struct emu_dmabuf_blk blk;
	s64 left;

	if (!emu_dmabuf_head(st->b1, &blk))
		return false;

	if (!blk.cyclic) {
		emu_dac_consume_block(st, b1, &blk);
		emu_dmabuf_head_done(st->b1, 0);
		*cyc_id = NULL;
		return true;
	}
	if (blk.id != *cyc_id) {		/* first pass */
		*cyc_id = blk.id;
		*cyc_next = ktime_add_ns(ktime_get(), EMU_DAC_CYCLIC_NS);
		emu_dac_consume_block(st, b1, &blk);
		return true;
	}
	if (emu_dmabuf_head_has_next(st->b1)) {	/* end of its last pass */
		emu_dmabuf_head_done(st->b1, 0);
		*cyc_id = NULL;
		return true;
	}
	left = ktime_to_ns(ktime_sub(*cyc_next, ktime_get()));
	if (left > 0) {
		*wait_ns = min_t(u64, *wait_ns, left);
		return false;
	}
	*cyc_next = ktime_add_ns(ktime_get(), EMU_DAC_CYCLIC_NS);
	emu_dmabuf_count_wrap(st->b1);
	emu_dac_consume_block(st, b1, &blk);
	return true;
}

static int emu_dac_free_run(void *data)
{
	struct emu_dac *st = data;
	struct iio_buffer *b0 = st->indio_dev->buffer;
	struct iio_buffer *b1 = emu_dmabuf_to_iio(st->b1);
	/* The set of enabled buffers is fixed while this thread runs. */
	bool use0 = emu_buffer_is_active(b0) && b0->bytes_per_datum &&
		    b0->bytes_per_datum <= EMU_DAC_SCAN_MAX;
	bool use1 = EMU_HAVE_DMABUF && emu_buffer_is_active(b1) && b1->bytes_per_datum &&
		    b1->bytes_per_datum <= EMU_DAC_SCAN_MAX;
	u64 backoff = EMU_DAC_POLL_MIN_NS;
	const void *cyc_id = NULL;
	ktime_t cyc_next = 0;

	while (!kthread_should_stop()) {
		u64 seq = emu_dmabuf_enq_seq(st->b1);
		u64 wait_ns = use0 ? backoff : EMU_DAC_IDLE_NS;
		bool progress = false;

		if (use0 && emu_dac_drain_kfifo(st, b0))
			progress = true;
		if (use1 && emu_dac_run_block(st, b1, &cyc_id, &cyc_next, &wait_ns))
			progress = true;

		if (progress) {
			backoff = EMU_DAC_POLL_MIN_NS;
			cond_resched();
			continue;
		}
		/* An enqueue wakes us at once; the kfifo is polled. */
		emu_dmabuf_wait(st->b1, seq, wait_ns);
		if (use0)
			backoff = min_t(u64, backoff * 2, EMU_DAC_POLL_MAX_NS);
	}
	return 0;
}

static int emu_dac_preenable(struct iio_dev *indio_dev)
{
	struct emu_dac *st = iio_priv(indio_dev);
	int ret = 0;

	if (iio_device_get_current_mode(indio_dev) == INDIO_BUFFER_SOFTWARE) {
		mutex_lock(&st->lock);
		if (!st->free_running)
			ret = -EINVAL;	/* no trigger and not free-running */
		mutex_unlock(&st->lock);
	}
	return ret;
}

static int emu_dac_postenable(struct iio_dev *indio_dev)
{
	struct emu_dac *st = iio_priv(indio_dev);
	struct task_struct *task;

	if (iio_device_get_current_mode(indio_dev) != INDIO_BUFFER_SOFTWARE)
		return 0;

	task = kthread_run(emu_dac_free_run, st, "iio-emu-dac");
	if (IS_ERR(task))
		return PTR_ERR(task);
	st->fr_task = task;
	return 0;
}

static int emu_dac_predisable(struct iio_dev *indio_dev)
{
	struct emu_dac *st = iio_priv(indio_dev);
	struct task_struct *task = st->fr_task;

	st->fr_task = NULL;
	if (task)
		kthread_stop(task);
	return 0;
}

static const struct iio_buffer_setup_ops emu_dac_setup_ops = {
	.preenable = emu_dac_preenable,
	.postenable = emu_dac_postenable,
	.predisable = emu_dac_predisable,
};

static int emu_dac_read_raw(struct iio_dev *indio_dev,
			    struct iio_chan_spec const *chan,
			    int *val, int *val2, long mask)
{
	struct emu_dac *st = iio_priv(indio_dev);

	switch (mask) {
	case IIO_CHAN_INFO_RAW:
		mutex_lock(&st->lock);
		*val = st->raw[chan->channel];
		mutex_unlock(&st->lock);
		return IIO_VAL_INT;
	case IIO_CHAN_INFO_SCALE:
		*val = 0;
		*val2 = 100000;		/* 0.1 mV per LSB */
		return IIO_VAL_INT_PLUS_MICRO;
	default:
		return -EINVAL;
	}
}

static int emu_dac_write_raw(struct iio_dev *indio_dev,
			     struct iio_chan_spec const *chan,
			     int val, int val2, long mask)
{
	struct emu_dac *st = iio_priv(indio_dev);

	switch (mask) {
	case IIO_CHAN_INFO_RAW:
		if (val < S16_MIN || val > S16_MAX || val2)
			return -EINVAL;
		mutex_lock(&st->lock);
		st->raw[chan->channel] = val;
		mutex_unlock(&st->lock);
		return 0;
	default:
		return -EINVAL;
	}
}

static int emu_dac_write_raw_get_fmt(struct iio_dev *indio_dev,
				     struct iio_chan_spec const *chan,
				     long mask)
{
	if (mask == IIO_CHAN_INFO_RAW)
		return IIO_VAL_INT;
	return IIO_VAL_INT_PLUS_MICRO;
}

enum {
	EMU_DAC_BYTES,
	EMU_DAC_SCANS,
	EMU_DAC_CRC,
	EMU_DAC_WRAPS,
	EMU_DAC_UNDERRUNS,
};

static ssize_t emu_dac_stat_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct emu_dac *st = iio_priv(dev_to_iio_dev(dev));
	u64 v;

	if (to_iio_dev_attr(attr)->address == EMU_DAC_WRAPS)
		return sysfs_emit(buf, "%llu\n", emu_dmabuf_wraps(st->b1));

	mutex_lock(&st->lock);
	switch (to_iio_dev_attr(attr)->address) {
	case EMU_DAC_BYTES:
		v = st->bytes;
		break;
	case EMU_DAC_SCANS:
		v = st->scans;
		break;
	case EMU_DAC_CRC:
		v = st->crc ^ ~0U;
		mutex_unlock(&st->lock);
		return sysfs_emit(buf, "0x%08x\n", (u32)v);
	default:
		v = st->underruns;
		break;
	}
	mutex_unlock(&st->lock);
	return sysfs_emit(buf, "%llu\n", v);
}

static ssize_t emu_reset_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t len)
{
	struct emu_dac *st = iio_priv(dev_to_iio_dev(dev));
	bool v;
	int ret;

	ret = kstrtobool(buf, &v);
	if (ret)
		return ret;
	if (!v)
		return -EINVAL;

	mutex_lock(&st->lock);
	st->bytes = 0;
	st->scans = 0;
	st->underruns = 0;
	st->crc = ~0U;
	mutex_unlock(&st->lock);
	emu_dmabuf_reset_stats(st->b1);
	return len;
}

static ssize_t emu_free_running_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct emu_dac *st = iio_priv(dev_to_iio_dev(dev));
	bool v;

	mutex_lock(&st->lock);
	v = st->free_running;
	mutex_unlock(&st->lock);
	return sysfs_emit(buf, "%d\n", v);
}

static ssize_t emu_free_running_store(struct device *dev,
				      struct device_attribute *attr,
				      const char *buf, size_t len)
{
	struct iio_dev *indio_dev = dev_to_iio_dev(dev);
	struct emu_dac *st = iio_priv(indio_dev);
	bool v;
	int ret;

	ret = kstrtobool(buf, &v);
	if (ret)
		return ret;

	/* Only while no buffer is enabled (holds the device's mode lock). */
	ret = iio_device_claim_direct_mode(indio_dev);
	if (ret)
		return ret;
	mutex_lock(&st->lock);
	st->free_running = v;
	mutex_unlock(&st->lock);
	iio_device_release_direct_mode(indio_dev);
	return len;
}

static IIO_DEVICE_ATTR(emu_consumed_bytes, 0444, emu_dac_stat_show, NULL,
		       EMU_DAC_BYTES);
static IIO_DEVICE_ATTR(emu_consumed_scans, 0444, emu_dac_stat_show, NULL,
		       EMU_DAC_SCANS);
static IIO_DEVICE_ATTR(emu_consumed_crc32, 0444, emu_dac_stat_show, NULL,
		       EMU_DAC_CRC);
static IIO_DEVICE_ATTR(emu_cyclic_wraps, 0444, emu_dac_stat_show, NULL,
		       EMU_DAC_WRAPS);
static IIO_DEVICE_ATTR(emu_underruns, 0444, emu_dac_stat_show, NULL,
		       EMU_DAC_UNDERRUNS);
static IIO_DEVICE_ATTR(emu_reset, 0200, NULL, emu_reset_store, 0);
static IIO_DEVICE_ATTR(emu_free_running, 0644, emu_free_running_show,
		       emu_free_running_store, 0);

static struct attribute *emu_dac_attrs[] = {
	&iio_dev_attr_emu_consumed_bytes.dev_attr.attr,
	&iio_dev_attr_emu_consumed_scans.dev_attr.attr,
	&iio_dev_attr_emu_consumed_crc32.dev_attr.attr,
	&iio_dev_attr_emu_cyclic_wraps.dev_attr.attr,
	&iio_dev_attr_emu_underruns.dev_attr.attr,
	&iio_dev_attr_emu_reset.dev_attr.attr,
	&iio_dev_attr_emu_free_running.dev_attr.attr,
	NULL
};

static const struct attribute_group emu_dac_attr_group = {
	.attrs = emu_dac_attrs,
};

static const struct iio_info emu_dac_info = {
	.attrs = &emu_dac_attr_group,
	.read_raw = emu_dac_read_raw,
	.write_raw = emu_dac_write_raw,
	.write_raw_get_fmt = emu_dac_write_raw_get_fmt,
};

int emu_dac_probe(struct device *dev)
{
	struct iio_dev *indio_dev;
	struct emu_dac *st;
	int ret;

	indio_dev = devm_iio_device_alloc(dev, sizeof(*st));
	if (!indio_dev)
		return -ENOMEM;

	st = iio_priv(indio_dev);
	st->indio_dev = indio_dev;
	st->crc = ~0U;
	ret = devm_mutex_init(dev, &st->lock);
	if (ret)
		return ret;

	indio_dev->name = "emu-dac";
	indio_dev->label = "dac-main";
	indio_dev->info = &emu_dac_info;
	indio_dev->channels = emu_dac_channels;
	indio_dev->num_channels = ARRAY_SIZE(emu_dac_channels);
	/* SOFTWARE: buffers may run without a trigger when emu_free_running=1. */
	indio_dev->modes = INDIO_DIRECT_MODE | INDIO_BUFFER_SOFTWARE;

	/* buffer0: kfifo, write() */
	ret = devm_iio_triggered_buffer_setup_ext(dev, indio_dev,
						  iio_pollfunc_store_time,
						  emu_dac_trigger_handler,
						  IIO_BUFFER_DIRECTION_OUT,
						  &emu_dac_setup_ops, NULL);
	if (ret)
		return ret;

	/* buffer1: DMABUF */
	st->b1 = emu_dmabuf_attach_new(dev, indio_dev, IIO_BUFFER_DIRECTION_OUT);
	if (IS_ERR(st->b1))
		return PTR_ERR(st->b1);

	return devm_iio_device_register(dev, indio_dev);
}
