// SPDX-License-Identifier: GPL-2.0
/*
 * iio_emu - emu-mux: an emulated multiplexed ADC, shaped like the real ones
 * (ti-ads1015, ti-ads1119, max11410): one conversion at a time through an
 * input multiplexer, so its buffer takes exactly one channel per scan.
 *
 * Channels (scan index = value slot k):
 *   0 in_voltage0-voltage1   differential  le:s16/16>>0
 *   1 in_voltage2-voltage3   differential  le:s16/16>>0
 *   2 in_voltage0            single-ended  be:s12/16>>4
 *   3 in_voltage1            single-ended  be:s12/16>>4
 *   4 in_voltage4_supply     extend name   le:u16/16>>0  (own scale)
 *   5 in_accel_x             modifier      le:s16/16>>0
 *   6 in_timestamp
 * Shared attributes, as the core names them: in_voltage-voltage_scale (+
 * _available) for the differential channels, in_voltage_scale for the
 * single-ended ones, in_accel_scale, in_sampling_frequency (by direction).
 *
 * available_scan_masks allows one channel at a time: the core refuses a
 * second channel's scan element (EINVAL) in iio_scan_mask_set().
 *
 * n = scan number since buffer0 was last enabled (0 for the first scan):
 *   raw(k, n)    = (k * 961 + n * (2^(bits-8) + 1)) mod 2^bits
 *                  (two's complement of `bits` bits for signed elements)
 *   stored(k, n) = (raw << shift) | (n & ((1 << shift) - 1))
 * in_<chan>_raw reads raw(k, 0), and EBUSY while the buffer is enabled.
 * Events (thresholds on voltage0-voltage1, magnitude on accel_x) only store
 * their settings; they never fire.  See README.md.
 */
#include <linux/bitops.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/mutex.h>

#include <linux/iio/iio.h>
#include <linux/iio/buffer.h>
#include <linux/iio/events.h>
#include <linux/iio/sysfs.h>
#include <linux/iio/trigger_consumer.h>
#include <linux/iio/triggered_buffer.h>

#include "emu.h"

#define EMU_MUX_NUM_ELEMS	6
#define EMU_MUX_TS_INDEX	6
#define EMU_MUX_SAMP_FREQ	128

struct emu_mux_elem {
	u8 bits;
	u8 shift;
	bool is_signed;
	bool big_endian;
};

/* Indexed by scan index (= value slot k); must match emu_mux_channels[]. */
static const struct emu_mux_elem emu_mux_elems[EMU_MUX_NUM_ELEMS] = {
	{ .bits = 16, .shift = 0, .is_signed = true },
	{ .bits = 16, .shift = 0, .is_signed = true },
	{ .bits = 12, .shift = 4, .is_signed = true, .big_endian = true },
	{ .bits = 12, .shift = 4, .is_signed = true, .big_endian = true },
	{ .bits = 16, .shift = 0 },
	{ .bits = 16, .shift = 0, .is_signed = true },
};

/* One channel per scan: the multiplexer converts one input at a time. */
static const unsigned long emu_mux_scan_masks[] = {
	BIT(0), BIT(1), BIT(2), BIT(3), BIT(4), BIT(5), 0
};

/* Event settings (en, value, hysteresis, period) of the two event specs. */
enum { EMU_MUX_EV_DIFF, EMU_MUX_EV_ACCEL, EMU_MUX_NUM_EV };

struct emu_mux {
	struct mutex lock;		/* protects the state below */
	u64 next_n;			/* the next scan's number */
	bool ev_en[EMU_MUX_NUM_EV];
	int ev_val[EMU_MUX_NUM_EV][IIO_EV_INFO_PERIOD + 1];	/* en, value, hysteresis, period */
	struct {
		__le16 sample;		/* or __be16: one 16-bit element */
		aligned_s64 ts;
	} scan;
};

/*
 * voltage0-voltage1: thresh rising; en and value its own, hysteresis shared by
 * the differential voltage channels, period shared by direction.
 */
static const struct iio_event_spec emu_mux_diff_events[] = {
	{
		.type = IIO_EV_TYPE_THRESH,
		.dir = IIO_EV_DIR_RISING,
		.mask_separate = BIT(IIO_EV_INFO_ENABLE) | BIT(IIO_EV_INFO_VALUE),
		.mask_shared_by_type = BIT(IIO_EV_INFO_HYSTERESIS),
		.mask_shared_by_dir = BIT(IIO_EV_INFO_PERIOD),
	},
};

/* accel_x: mag rising; en its own, value shared by type (in_accel_mag_rising_value). */
static const struct iio_event_spec emu_mux_accel_events[] = {
	{
		.type = IIO_EV_TYPE_MAG,
		.dir = IIO_EV_DIR_RISING,
		.mask_separate = BIT(IIO_EV_INFO_ENABLE),
		.mask_shared_by_type = BIT(IIO_EV_INFO_VALUE),
	},
};

#define EMU_MUX_SCAN(_sign, _bits, _shift, _endian) {			\
	.sign = (_sign),						\
	.realbits = (_bits),						\
	.storagebits = 16,						\
	.shift = (_shift),						\
	.endianness = (_endian),					\
}

#define EMU_MUX_DIFF(_si, _ch, _ch2, _ev, _nev) {			\
	.type = IIO_VOLTAGE,						\
	.indexed = 1,							\
	.differential = 1,						\
	.channel = (_ch),						\
	.channel2 = (_ch2),						\
	.scan_index = (_si),						\
	.info_mask_separate = BIT(IIO_CHAN_INFO_RAW),			\
	.info_mask_shared_by_type = BIT(IIO_CHAN_INFO_SCALE),		\
	.info_mask_shared_by_type_available = BIT(IIO_CHAN_INFO_SCALE),	\
	.info_mask_shared_by_dir = BIT(IIO_CHAN_INFO_SAMP_FREQ),	\
	.scan_type = EMU_MUX_SCAN('s', 16, 0, IIO_LE),			\
	.event_spec = (_ev),						\
	.num_event_specs = (_nev),					\
}

#define EMU_MUX_SINGLE(_si, _ch) {					\
	.type = IIO_VOLTAGE,						\
	.indexed = 1,							\
	.channel = (_ch),						\
	.scan_index = (_si),						\
	.info_mask_separate = BIT(IIO_CHAN_INFO_RAW),			\
	.info_mask_shared_by_type = BIT(IIO_CHAN_INFO_SCALE),		\
	.info_mask_shared_by_dir = BIT(IIO_CHAN_INFO_SAMP_FREQ),	\
	.scan_type = EMU_MUX_SCAN('s', 12, 4, IIO_BE),			\
}

static const struct iio_chan_spec emu_mux_channels[] = {
	EMU_MUX_DIFF(0, 0, 1, emu_mux_diff_events, ARRAY_SIZE(emu_mux_diff_events)),
	EMU_MUX_DIFF(1, 2, 3, NULL, 0),
	EMU_MUX_SINGLE(2, 0),
	EMU_MUX_SINGLE(3, 1),
	{
		/* A supply monitor: extend name, its own scale. */
		.type = IIO_VOLTAGE,
		.indexed = 1,
		.channel = 4,
		.extend_name = "supply",
		.scan_index = 4,
		.info_mask_separate = BIT(IIO_CHAN_INFO_RAW) | BIT(IIO_CHAN_INFO_SCALE),
		.info_mask_shared_by_dir = BIT(IIO_CHAN_INFO_SAMP_FREQ),
		.scan_type = EMU_MUX_SCAN('u', 16, 0, IIO_LE),
	},
	{
		.type = IIO_ACCEL,
		.modified = 1,
		.channel2 = IIO_MOD_X,
		.scan_index = 5,
		.info_mask_separate = BIT(IIO_CHAN_INFO_RAW),
		.info_mask_shared_by_type = BIT(IIO_CHAN_INFO_SCALE),
		.info_mask_shared_by_dir = BIT(IIO_CHAN_INFO_SAMP_FREQ),
		.scan_type = EMU_MUX_SCAN('s', 16, 0, IIO_LE),
		.event_spec = emu_mux_accel_events,
		.num_event_specs = ARRAY_SIZE(emu_mux_accel_events),
	},
	IIO_CHAN_SOFT_TIMESTAMP(EMU_MUX_TS_INDEX),
};

/* Scales (IIO_VAL_INT_PLUS_MICRO): differential 0.0625 (alternative 0.125), single-ended 1, supply 2, accel 0.009576. */
static const int emu_mux_diff_scales[] = { 0, 62500, 0, 125000 };

static u32 emu_mux_raw(unsigned int k, unsigned int bits, u64 n)
{
	u32 mask = (u32)GENMASK(bits - 1, 0);
	u32 step = (1u << (bits - 8)) + 1;

	return (u32)(k * 961u + (u32)n * step) & mask;
}

static int emu_mux_read_raw(struct iio_dev *indio_dev,
			    struct iio_chan_spec const *chan,
			    int *val, int *val2, long mask)
{
	const struct emu_mux_elem *e;
	u32 raw;
	int ret;

	switch (mask) {
	case IIO_CHAN_INFO_RAW:
		if (chan->scan_index < 0 || chan->scan_index >= EMU_MUX_NUM_ELEMS)
			return -EINVAL;
		/* As on a real mux ADC: no single conversion while buffered. */
		ret = iio_device_claim_direct_mode(indio_dev);
		if (ret)
			return ret;
		e = &emu_mux_elems[chan->scan_index];
		raw = emu_mux_raw(chan->scan_index, e->bits, 0);
		*val = e->is_signed ? sign_extend32(raw, e->bits - 1) : (int)raw;
		iio_device_release_direct_mode(indio_dev);
		return IIO_VAL_INT;
	case IIO_CHAN_INFO_SCALE:
		if (chan->type == IIO_ACCEL) {
			*val = 0;
			*val2 = 9576;
		} else if (chan->differential) {
			*val = emu_mux_diff_scales[0];
			*val2 = emu_mux_diff_scales[1];
		} else {
			*val = chan->extend_name ? 2 : 1;
			*val2 = 0;
		}
		return IIO_VAL_INT_PLUS_MICRO;
	case IIO_CHAN_INFO_SAMP_FREQ:
		*val = EMU_MUX_SAMP_FREQ;
		return IIO_VAL_INT;
	default:
		return -EINVAL;
	}
}

static int emu_mux_read_avail(struct iio_dev *indio_dev,
			      struct iio_chan_spec const *chan,
			      const int **vals, int *type, int *length,
			      long mask)
{
	if (mask != IIO_CHAN_INFO_SCALE || !chan->differential)
		return -EINVAL;
	*vals = emu_mux_diff_scales;
	*type = IIO_VAL_INT_PLUS_MICRO;
	*length = ARRAY_SIZE(emu_mux_diff_scales);
	return IIO_AVAIL_LIST;
}

static unsigned int emu_mux_ev_index(const struct iio_chan_spec *chan)
{
	return chan->type == IIO_ACCEL ? EMU_MUX_EV_ACCEL : EMU_MUX_EV_DIFF;
}

static int emu_mux_read_event_config(struct iio_dev *indio_dev,
				     const struct iio_chan_spec *chan,
				     enum iio_event_type type,
				     enum iio_event_direction dir)
{
	struct emu_mux *st = iio_priv(indio_dev);
	int ret;

	mutex_lock(&st->lock);
	ret = st->ev_en[emu_mux_ev_index(chan)];
	mutex_unlock(&st->lock);
	return ret;
}

static int emu_mux_write_event_config(struct iio_dev *indio_dev,
				      const struct iio_chan_spec *chan,
				      enum iio_event_type type,
				      enum iio_event_direction dir,
				      int state)
{
	struct emu_mux *st = iio_priv(indio_dev);

	mutex_lock(&st->lock);
	st->ev_en[emu_mux_ev_index(chan)] = !!state;
	mutex_unlock(&st->lock);
	return 0;
}

static int emu_mux_read_event_value(struct iio_dev *indio_dev,
				    const struct iio_chan_spec *chan,
				    enum iio_event_type type,
				    enum iio_event_direction dir,
				    enum iio_event_info info,
				    int *val, int *val2)
{
	struct emu_mux *st = iio_priv(indio_dev);

	if (info > IIO_EV_INFO_PERIOD)
		return -EINVAL;
	mutex_lock(&st->lock);
	*val = st->ev_val[emu_mux_ev_index(chan)][info];
	mutex_unlock(&st->lock);
	return IIO_VAL_INT;
}

static int emu_mux_write_event_value(struct iio_dev *indio_dev,
				     const struct iio_chan_spec *chan,
				     enum iio_event_type type,
				     enum iio_event_direction dir,
				     enum iio_event_info info,
				     int val, int val2)
{
	struct emu_mux *st = iio_priv(indio_dev);

	if (val2 || info > IIO_EV_INFO_PERIOD)
		return -EINVAL;	/* raw units are integers */
	if (val < S16_MIN || val > S16_MAX)
		return -EINVAL;
	mutex_lock(&st->lock);
	st->ev_val[emu_mux_ev_index(chan)][info] = val;
	mutex_unlock(&st->lock);
	return 0;
}

static const struct iio_info emu_mux_info = {
	.read_raw = emu_mux_read_raw,
	.read_avail = emu_mux_read_avail,
	.read_event_config = emu_mux_read_event_config,
	.write_event_config = emu_mux_write_event_config,
	.read_event_value = emu_mux_read_event_value,
	.write_event_value = emu_mux_write_event_value,
};

static int emu_mux_preenable(struct iio_dev *indio_dev)
{
	struct emu_mux *st = iio_priv(indio_dev);

	/* Scan numbers restart with every enable; the pollfunc is not attached yet. */
	mutex_lock(&st->lock);
	st->next_n = 0;
	mutex_unlock(&st->lock);
	return 0;
}

static const struct iio_buffer_setup_ops emu_mux_setup_ops = {
	.preenable = emu_mux_preenable,
};

static irqreturn_t emu_mux_trigger_handler(int irq, void *p)
{
	struct iio_poll_func *pf = p;
	struct iio_dev *indio_dev = pf->indio_dev;
	struct emu_mux *st = iio_priv(indio_dev);
	unsigned int k = find_first_bit(indio_dev->active_scan_mask,
					iio_get_masklength(indio_dev));
	const struct emu_mux_elem *e;
	u64 n;
	u32 v;

	mutex_lock(&st->lock);
	n = st->next_n++;
	mutex_unlock(&st->lock);

	/* Only the timestamp enabled (k is then the timestamp's bit or beyond): no sample. */
	memset(&st->scan, 0, sizeof(st->scan));
	if (k < EMU_MUX_NUM_ELEMS) {
		e = &emu_mux_elems[k];
		v = emu_mux_raw(k, e->bits, n) << e->shift |
		    ((u32)n & (BIT(e->shift) - 1));
		if (e->big_endian)
			put_unaligned_be16(v, &st->scan.sample);
		else
			put_unaligned_le16(v, &st->scan.sample);
	}

	iio_push_to_buffers_with_timestamp(indio_dev, &st->scan, pf->timestamp);
	iio_trigger_notify_done(indio_dev->trig);
	return IRQ_HANDLED;
}

int emu_mux_probe(struct device *dev)
{
	struct iio_dev *indio_dev;
	struct emu_mux *st;
	int ret;

	indio_dev = devm_iio_device_alloc(dev, sizeof(*st));
	if (!indio_dev)
		return -ENOMEM;

	st = iio_priv(indio_dev);
	ret = devm_mutex_init(dev, &st->lock);
	if (ret)
		return ret;

	indio_dev->name = "emu-mux";
	indio_dev->label = "mux-adc";
	indio_dev->info = &emu_mux_info;
	indio_dev->channels = emu_mux_channels;
	indio_dev->num_channels = ARRAY_SIZE(emu_mux_channels);
	indio_dev->available_scan_masks = emu_mux_scan_masks;
	indio_dev->modes = INDIO_DIRECT_MODE;

	ret = devm_iio_triggered_buffer_setup(dev, indio_dev,
					      iio_pollfunc_store_time,
					      emu_mux_trigger_handler,
					      &emu_mux_setup_ops);
	if (ret)
		return ret;

	return devm_iio_device_register(dev, indio_dev);
}
