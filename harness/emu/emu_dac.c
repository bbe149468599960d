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
 */
#include <linux/crc32.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/unaligned.h>

#include <linux/iio/iio.h>
#include <linux/iio/buffer.h>
#include <linux/iio/buffer_impl.h>
#include <linux/iio/sysfs.h>
#include <linux/iio/trigger_consumer.h>
#include <linux/iio/triggered_buffer.h>

#include "emu.h"

#define EMU_DAC_NUM_CHANNELS	2

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
	u8 scan[16] __aligned(8);
};

/* Called with st->lock held. */
static void emu_dac_consume(struct emu_dac *st, struct iio_buffer *buf)
{
	size_t bpd = buf->bytes_per_datum;
	unsigned int si, off = 0;

	st->bytes += bpd;
	st->scans++;
	st->crc = crc32_le(st->crc, st->scan, bpd);

	for_each_set_bit(si, buf->scan_mask, EMU_DAC_NUM_CHANNELS) {
		if (off + 2 > bpd)
			break;
		st->raw[si] = (s16)get_unaligned_le16(st->scan + off);
		off += 2;
	}
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

static struct attribute *emu_dac_attrs[] = {
	&iio_dev_attr_emu_consumed_bytes.dev_attr.attr,
	&iio_dev_attr_emu_consumed_scans.dev_attr.attr,
	&iio_dev_attr_emu_consumed_crc32.dev_attr.attr,
	&iio_dev_attr_emu_cyclic_wraps.dev_attr.attr,
	&iio_dev_attr_emu_underruns.dev_attr.attr,
	&iio_dev_attr_emu_reset.dev_attr.attr,
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
	indio_dev->modes = INDIO_DIRECT_MODE;

	/* buffer0: kfifo, write() */
	ret = devm_iio_triggered_buffer_setup_ext(dev, indio_dev,
						  iio_pollfunc_store_time,
						  emu_dac_trigger_handler,
						  IIO_BUFFER_DIRECTION_OUT,
						  NULL, NULL);
	if (ret)
		return ret;

	/* buffer1: DMABUF */
	st->b1 = emu_dmabuf_attach_new(dev, indio_dev, IIO_BUFFER_DIRECTION_OUT);
	if (IS_ERR(st->b1))
		return PTR_ERR(st->b1);

	return devm_iio_device_register(dev, indio_dev);
}
