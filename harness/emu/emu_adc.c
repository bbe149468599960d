// SPDX-License-Identifier: GPL-2.0
/*
 * iio_emu - emu-adc: an emulated ADC + accelerometer with a deterministic
 * sample pattern, a kfifo buffer0 (read()) and a DMABUF buffer1.
 *
 * Value slots k in scan-index order (the repeated element expands):
 *   voltage0 k=0, voltage1 k=1, voltage2 k=2, voltage3 k=3,
 *   voltage4[0..3] k=4..7, accel x/y/z k=8..10.
 * n = scan number since the buffers were last enabled (0 for the first scan).
 *   raw(k, n)    = (k * 961 + n * (2^(bits-8) + 1)) mod 2^bits
 *                  (two's complement of `bits` bits for signed elements)
 *   stored(k, n) = (raw << shift) | (n & ((1 << shift) - 1))
 * in the element's storage size and endianness.  See README.md.
 */
#include <linux/bitops.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/unaligned.h>

#include <linux/iio/iio.h>
#include <linux/iio/buffer.h>
#include <linux/iio/sysfs.h>
#include <linux/iio/trigger_consumer.h>
#include <linux/iio/triggered_buffer.h>

#include "emu.h"

#define EMU_ADC_NUM_ELEMS	8
#define EMU_ADC_TS_INDEX	8
#define EMU_ADC_SCAN_MAX	64
#define EMU_ADC_FREQ_MAX	1000000

struct emu_adc_elem {
	u8 k;		/* first value slot */
	u8 bits;	/* realbits */
	u8 storage;	/* storagebits */
	u8 shift;
	u8 repeat;
	bool is_signed;
	bool big_endian;
};

/* Indexed by scan index; must match emu_adc_channels[]. */
static const struct emu_adc_elem emu_adc_elems[EMU_ADC_NUM_ELEMS] = {
	{ .k = 0,  .bits = 12, .storage = 16, .shift = 4, .repeat = 1 },
	{ .k = 1,  .bits = 16, .storage = 16, .shift = 0, .repeat = 1, .is_signed = true },
	{ .k = 2,  .bits = 16, .storage = 16, .shift = 0, .repeat = 1, .is_signed = true,
	  .big_endian = true },
	{ .k = 3,  .bits = 24, .storage = 32, .shift = 8, .repeat = 1, .is_signed = true },
	{ .k = 4,  .bits = 16, .storage = 16, .shift = 0, .repeat = 4 },
	{ .k = 8,  .bits = 16, .storage = 16, .shift = 0, .repeat = 1, .is_signed = true },
	{ .k = 9,  .bits = 16, .storage = 16, .shift = 0, .repeat = 1, .is_signed = true },
	{ .k = 10, .bits = 16, .storage = 16, .shift = 0, .repeat = 1, .is_signed = true },
};

#define EMU_ADC_VOLTAGE(_idx, _sign, _bits, _storage, _shift, _rep, _endian, _extra) { \
	.type = IIO_VOLTAGE,						\
	.indexed = 1,							\
	.channel = (_idx),						\
	.scan_index = (_idx),						\
	.info_mask_separate = BIT(IIO_CHAN_INFO_RAW) | (_extra),	\
	.info_mask_shared_by_type = BIT(IIO_CHAN_INFO_SCALE),		\
	.info_mask_shared_by_all = BIT(IIO_CHAN_INFO_SAMP_FREQ),	\
	.scan_type = {							\
		.sign = (_sign),					\
		.realbits = (_bits),					\
		.storagebits = (_storage),				\
		.shift = (_shift),					\
		.repeat = (_rep),					\
		.endianness = (_endian),				\
	},								\
}

#define EMU_ADC_ACCEL(_idx, _mod) {					\
	.type = IIO_ACCEL,						\
	.modified = 1,							\
	.channel2 = (_mod),						\
	.scan_index = (_idx),						\
	.info_mask_separate = BIT(IIO_CHAN_INFO_RAW),			\
	.info_mask_shared_by_type = BIT(IIO_CHAN_INFO_SCALE),		\
	.info_mask_shared_by_all = BIT(IIO_CHAN_INFO_SAMP_FREQ),	\
	.scan_type = {							\
		.sign = 's',						\
		.realbits = 16,						\
		.storagebits = 16,					\
		.shift = 0,						\
		.endianness = IIO_LE,					\
	},								\
}

static const struct iio_chan_spec emu_adc_channels[] = {
	EMU_ADC_VOLTAGE(0, 'u', 12, 16, 4, 0, IIO_LE, 0),
	EMU_ADC_VOLTAGE(1, 's', 16, 16, 0, 0, IIO_LE, 0),
	EMU_ADC_VOLTAGE(2, 's', 16, 16, 0, 0, IIO_BE, 0),
	EMU_ADC_VOLTAGE(3, 's', 24, 32, 8, 0, IIO_LE, BIT(IIO_CHAN_INFO_OFFSET)),
	EMU_ADC_VOLTAGE(4, 'u', 16, 16, 0, 4, IIO_LE, 0),
	EMU_ADC_ACCEL(5, IIO_MOD_X),
	EMU_ADC_ACCEL(6, IIO_MOD_Y),
	EMU_ADC_ACCEL(7, IIO_MOD_Z),
	IIO_CHAN_SOFT_TIMESTAMP(EMU_ADC_TS_INDEX),
};

struct emu_adc {
	struct iio_dev *indio_dev;
	struct emu_dmabuf *b1;
	struct mutex lock;		/* samp_freq, free_running, fr_task */
	unsigned int samp_freq;
	bool free_running;
	struct task_struct *fr_task;
	spinlock_t stat_lock;
	u64 dropped;			/* P: stat_lock; scans buffer0 refused */
	u64 next_n;			/* producer only (trigger thread or kthread) */
	atomic64_t last_n;		/* n of the most recent scan */
	u8 scan[EMU_ADC_SCAN_MAX] __aligned(8);
};

static u32 emu_adc_raw(unsigned int k, unsigned int bits, u64 n)
{
	u64 step = (1ULL << (bits - 8)) + 1;

	return (u32)((k * 961ULL + n * step) & ((1ULL << bits) - 1));
}

static u32 emu_adc_stored(const struct emu_adc_elem *e, unsigned int k, u64 n)
{
	u32 raw = emu_adc_raw(k, e->bits, n);
	u32 junk = (u32)n & (BIT(e->shift) - 1);

	return (raw << e->shift) | junk;
}

/* Pack the active channels of scan n into st->scan; returns nothing. */
static void emu_adc_fill(struct emu_adc *st, struct iio_dev *indio_dev, u64 n)
{
	unsigned int si, r, off = 0;

	memset(st->scan, 0, sizeof(st->scan));
	iio_for_each_active_channel(indio_dev, si) {
		const struct emu_adc_elem *e;
		unsigned int sz;

		if (si >= EMU_ADC_NUM_ELEMS)
			continue;	/* the timestamp goes last, below */
		e = &emu_adc_elems[si];
		sz = e->storage / 8;
		off = ALIGN(off, sz * e->repeat);
		for (r = 0; r < e->repeat; r++) {
			u32 v = emu_adc_stored(e, e->k + r, n);
			u8 *p = st->scan + off + r * sz;

			if (sz == 4)
				put_unaligned_le32(v, p);
			else if (e->big_endian)
				put_unaligned_be16(v, p);
			else
				put_unaligned_le16(v, p);
		}
		off += sz * e->repeat;
	}
}

static void emu_adc_produce(struct emu_adc *st, s64 timestamp)
{
	struct iio_dev *indio_dev = st->indio_dev;
	struct iio_buffer *b1 = emu_dmabuf_to_iio(st->b1);
	u64 n = st->next_n++;
	u64 seen;
	int ret;

	emu_adc_fill(st, indio_dev, n);
	atomic64_set(&st->last_n, n);

	seen = emu_dmabuf_seen(st->b1);
	ret = iio_push_to_buffers_with_timestamp(indio_dev, st->scan, timestamp);
	if (ret) {
		/*
		 * buffer0 (kfifo) was full.  The core stops at the first buffer
		 * that fails, so buffer1 may not have been offered this scan.
		 */
		spin_lock(&st->stat_lock);
		st->dropped++;
		if (emu_buffer_is_active(b1) && emu_dmabuf_seen(st->b1) == seen)
			st->dropped++;
		spin_unlock(&st->stat_lock);
	}
}

static irqreturn_t emu_adc_trigger_handler(int irq, void *p)
{
	struct iio_poll_func *pf = p;
	struct iio_dev *indio_dev = pf->indio_dev;

	emu_adc_produce(iio_priv(indio_dev), pf->timestamp);
	iio_trigger_notify_done(indio_dev->trig);
	return IRQ_HANDLED;
}

/* Free-running mode: produce scans at sampling_frequency without a trigger. */
static int emu_adc_free_run(void *data)
{
	struct emu_adc *st = data;
	unsigned int cur_freq = 0;
	ktime_t start = 0;
	u64 produced = 0;

	while (!kthread_should_stop()) {
		unsigned int freq, burst = 0;
		u64 due;

		mutex_lock(&st->lock);
		freq = st->samp_freq;
		mutex_unlock(&st->lock);
		if (freq != cur_freq) {		/* (re)start the schedule */
			cur_freq = freq;
			start = ktime_get();
			produced = 0;
		}

		due = div_u64((u64)ktime_us_delta(ktime_get(), start) * freq,
			      USEC_PER_SEC) + 1;
		/* More than a second behind: give up on those scans' timing. */
		if (due > produced + freq)
			produced = due - freq;

		while (produced < due && burst < 64) {
			emu_adc_produce(st, iio_get_time_ns(st->indio_dev));
			produced++;
			burst++;
		}
		if (produced < due)
			cond_resched();
		else
			usleep_range(500, 1000);
	}
	return 0;
}

static int emu_adc_preenable(struct iio_dev *indio_dev)
{
	struct emu_adc *st = iio_priv(indio_dev);
	int ret = 0;

	/* Scan numbers restart with every enable; the pollfunc is not attached yet. */
	st->next_n = 0;

	if (iio_device_get_current_mode(indio_dev) == INDIO_BUFFER_SOFTWARE) {
		mutex_lock(&st->lock);
		if (!st->free_running)
			ret = -EINVAL;	/* no trigger and not free-running */
		mutex_unlock(&st->lock);
	}
	return ret;
}

static int emu_adc_postenable(struct iio_dev *indio_dev)
{
	struct emu_adc *st = iio_priv(indio_dev);
	struct task_struct *task;

	if (iio_device_get_current_mode(indio_dev) != INDIO_BUFFER_SOFTWARE)
		return 0;

	task = kthread_run(emu_adc_free_run, st, "iio-emu-adc");
	if (IS_ERR(task))
		return PTR_ERR(task);
	mutex_lock(&st->lock);
	st->fr_task = task;
	mutex_unlock(&st->lock);
	return 0;
}

static int emu_adc_predisable(struct iio_dev *indio_dev)
{
	struct emu_adc *st = iio_priv(indio_dev);
	struct task_struct *task;

	mutex_lock(&st->lock);
	task = st->fr_task;
	st->fr_task = NULL;
	mutex_unlock(&st->lock);
	if (task)
		kthread_stop(task);
	return 0;
}

static const struct iio_buffer_setup_ops emu_adc_setup_ops = {
	.preenable = emu_adc_preenable,
	.postenable = emu_adc_postenable,
	.predisable = emu_adc_predisable,
};

static int emu_adc_read_raw(struct iio_dev *indio_dev,
			    struct iio_chan_spec const *chan,
			    int *val, int *val2, long mask)
{
	struct emu_adc *st = iio_priv(indio_dev);
	const struct emu_adc_elem *e;
	u32 raw;

	switch (mask) {
	case IIO_CHAN_INFO_RAW:
		if (chan->scan_index < 0 || chan->scan_index >= EMU_ADC_NUM_ELEMS)
			return -EINVAL;
		e = &emu_adc_elems[chan->scan_index];
		raw = emu_adc_raw(e->k, e->bits, atomic64_read(&st->last_n));
		*val = e->is_signed ? sign_extend32(raw, e->bits - 1) : (int)raw;
		return IIO_VAL_INT;
	case IIO_CHAN_INFO_SCALE:
		*val = 0;
		*val2 = chan->type == IIO_ACCEL ? 9576 : 805664;
		return IIO_VAL_INT_PLUS_MICRO;
	case IIO_CHAN_INFO_OFFSET:
		*val = -100;
		return IIO_VAL_INT;
	case IIO_CHAN_INFO_SAMP_FREQ:
		mutex_lock(&st->lock);
		*val = st->samp_freq;
		mutex_unlock(&st->lock);
		return IIO_VAL_INT;
	default:
		return -EINVAL;
	}
}

static int emu_adc_write_raw(struct iio_dev *indio_dev,
			     struct iio_chan_spec const *chan,
			     int val, int val2, long mask)
{
	struct emu_adc *st = iio_priv(indio_dev);

	switch (mask) {
	case IIO_CHAN_INFO_SAMP_FREQ:
		if (val < 1 || val > EMU_ADC_FREQ_MAX || val2)
			return -EINVAL;
		mutex_lock(&st->lock);
		st->samp_freq = val;
		mutex_unlock(&st->lock);
		return 0;
	default:
		return -EINVAL;
	}
}

static int emu_adc_write_raw_get_fmt(struct iio_dev *indio_dev,
				     struct iio_chan_spec const *chan,
				     long mask)
{
	if (mask == IIO_CHAN_INFO_SAMP_FREQ)
		return IIO_VAL_INT;
	return IIO_VAL_INT_PLUS_MICRO;
}

static ssize_t emu_dropped_scans_show(struct device *dev,
				      struct device_attribute *attr, char *buf)
{
	struct emu_adc *st = iio_priv(dev_to_iio_dev(dev));
	u64 v;

	spin_lock(&st->stat_lock);
	v = st->dropped;
	spin_unlock(&st->stat_lock);
	return sysfs_emit(buf, "%llu\n", v + emu_dmabuf_dropped(st->b1));
}

static ssize_t emu_dropped_scans_store(struct device *dev,
				       struct device_attribute *attr,
				       const char *buf, size_t len)
{
	struct emu_adc *st = iio_priv(dev_to_iio_dev(dev));
	unsigned int v;
	int ret;

	ret = kstrtouint(buf, 10, &v);
	if (ret)
		return ret;
	if (v)
		return -EINVAL;	/* only a reset to 0 */

	spin_lock(&st->stat_lock);
	st->dropped = 0;
	spin_unlock(&st->stat_lock);
	emu_dmabuf_reset_stats(st->b1);
	return len;
}

static ssize_t emu_free_running_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct emu_adc *st = iio_priv(dev_to_iio_dev(dev));
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
	struct emu_adc *st = iio_priv(indio_dev);
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

static IIO_DEVICE_ATTR(emu_dropped_scans, 0644, emu_dropped_scans_show,
		       emu_dropped_scans_store, 0);
static IIO_DEVICE_ATTR(emu_free_running, 0644, emu_free_running_show,
		       emu_free_running_store, 0);

static struct attribute *emu_adc_attrs[] = {
	&iio_dev_attr_emu_dropped_scans.dev_attr.attr,
	&iio_dev_attr_emu_free_running.dev_attr.attr,
	NULL
};

static const struct attribute_group emu_adc_attr_group = {
	.attrs = emu_adc_attrs,
};

static const struct iio_info emu_adc_info = {
	.attrs = &emu_adc_attr_group,
	.read_raw = emu_adc_read_raw,
	.write_raw = emu_adc_write_raw,
	.write_raw_get_fmt = emu_adc_write_raw_get_fmt,
};

int emu_adc_probe(struct device *dev)
{
	struct iio_dev *indio_dev;
	struct emu_adc *st;
	int ret;

	indio_dev = devm_iio_device_alloc(dev, sizeof(*st));
	if (!indio_dev)
		return -ENOMEM;

	st = iio_priv(indio_dev);
	st->indio_dev = indio_dev;
	st->samp_freq = 1000;
	spin_lock_init(&st->stat_lock);
	atomic64_set(&st->last_n, 0);
	ret = devm_mutex_init(dev, &st->lock);
	if (ret)
		return ret;

	indio_dev->name = "emu-adc";
	indio_dev->label = "adc-main";
	indio_dev->info = &emu_adc_info;
	indio_dev->channels = emu_adc_channels;
	indio_dev->num_channels = ARRAY_SIZE(emu_adc_channels);
	/* SOFTWARE: buffers may run without a trigger when emu_free_running=1. */
	indio_dev->modes = INDIO_DIRECT_MODE | INDIO_BUFFER_SOFTWARE;

	/* buffer0: kfifo, read() */
	ret = devm_iio_triggered_buffer_setup(dev, indio_dev,
					      iio_pollfunc_store_time,
					      emu_adc_trigger_handler,
					      &emu_adc_setup_ops);
	if (ret)
		return ret;

	/* buffer1: DMABUF */
	st->b1 = emu_dmabuf_attach_new(dev, indio_dev, IIO_BUFFER_DIRECTION_IN);
	if (IS_ERR(st->b1))
		return PTR_ERR(st->b1);

	return devm_iio_device_register(dev, indio_dev);
}
