// SPDX-License-Identifier: GPL-2.0
/*
 * iio_emu - emu-thermo: an emulated thermometer with threshold events.
 *
 * in_temp: raw (s16), scale 62.5 (m°C per LSB), offset 160:
 *   temperature_mC = (raw + 160) * 62.5
 * The temperature is set from userspace through the device attribute
 * emu_temp_mC, or follows a 20 °C -> 50 °C -> 20 °C triangle wave while
 * emu_heat_cycle_ms > 0 (one step every 100 ms).
 *
 * Threshold events (values in raw units), evaluated on every temperature
 * change:
 *   rising  fires once when raw reaches >= value while armed; it re-arms
 *           only when raw < value - hysteresis.
 *   falling fires once when raw reaches <= value while armed; it re-arms
 *           only when raw > value + hysteresis.
 * Enabling an event or writing its value or hysteresis re-computes its armed
 * state from the current raw (rising: armed iff raw < value; falling: armed
 * iff raw > value), so an event only fires on a crossing.
 */
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

#include <linux/iio/iio.h>
#include <linux/iio/buffer.h>
#include <linux/iio/events.h>
#include <linux/iio/sysfs.h>
#include <linux/iio/trigger_consumer.h>
#include <linux/iio/triggered_buffer.h>

#include "emu.h"

#define EMU_THERMO_OFFSET	160
#define EMU_THERMO_STEP_MS	100
#define EMU_THERMO_LOW_MC	20000
#define EMU_THERMO_HIGH_MC	50000
/* |temperature| beyond this cannot be represented by an s16 raw anyway. */
#define EMU_THERMO_LIMIT_MC	3000000

struct emu_thermo {
	struct iio_dev *indio_dev;
	struct mutex lock;		/* protects the state below */
	struct mutex cfg_lock;		/* serialises emu_heat_cycle_ms writes */
	s16 raw;
	int rise_val, rise_hyst, fall_val, fall_hyst;
	bool rise_en, fall_en, rise_armed, fall_armed;
	unsigned int cycle_ms;
	ktime_t cycle_start;
	struct delayed_work cycle_work;
	struct {
		s16 temp;
		aligned_s64 ts;
	} scan;
};

static const struct iio_event_spec emu_thermo_events[] = {
	{
		.type = IIO_EV_TYPE_THRESH,
		.dir = IIO_EV_DIR_RISING,
		.mask_separate = BIT(IIO_EV_INFO_VALUE) |
				 BIT(IIO_EV_INFO_HYSTERESIS) |
				 BIT(IIO_EV_INFO_ENABLE),
	},
	{
		.type = IIO_EV_TYPE_THRESH,
		.dir = IIO_EV_DIR_FALLING,
		.mask_separate = BIT(IIO_EV_INFO_VALUE) |
				 BIT(IIO_EV_INFO_HYSTERESIS) |
				 BIT(IIO_EV_INFO_ENABLE),
	},
};

static const struct iio_chan_spec emu_thermo_channels[] = {
	{
		.type = IIO_TEMP,
		.info_mask_separate = BIT(IIO_CHAN_INFO_RAW) |
				      BIT(IIO_CHAN_INFO_SCALE) |
				      BIT(IIO_CHAN_INFO_OFFSET),
		.scan_index = 0,
		.scan_type = {
			.sign = 's',
			.realbits = 16,
			.storagebits = 16,
			.shift = 0,
			.endianness = IIO_LE,
		},
		.event_spec = emu_thermo_events,
		.num_event_specs = ARRAY_SIZE(emu_thermo_events),
	},
	IIO_CHAN_SOFT_TIMESTAMP(1),
};

static int emu_thermo_raw_to_mc(int raw)
{
	return (raw + EMU_THERMO_OFFSET) * 125 / 2;
}

static s16 emu_thermo_mc_to_raw(int mc)
{
	int raw;

	mc = clamp(mc, -EMU_THERMO_LIMIT_MC, EMU_THERMO_LIMIT_MC);
	raw = DIV_ROUND_CLOSEST(mc * 2, 125) - EMU_THERMO_OFFSET;
	return clamp(raw, S16_MIN, S16_MAX);
}

static void emu_thermo_push(struct emu_thermo *st, enum iio_event_direction dir)
{
	iio_push_event(st->indio_dev,
		       IIO_UNMOD_EVENT_CODE(IIO_TEMP, 0, IIO_EV_TYPE_THRESH, dir),
		       iio_get_time_ns(st->indio_dev));
}

/* Called with st->lock held. */
static void emu_thermo_set_raw(struct emu_thermo *st, s16 raw)
{
	st->raw = raw;

	if (st->rise_armed) {
		if (raw >= st->rise_val) {
			st->rise_armed = false;
			if (st->rise_en)
				emu_thermo_push(st, IIO_EV_DIR_RISING);
		}
	} else if (raw < st->rise_val - st->rise_hyst) {
		st->rise_armed = true;
	}

	if (st->fall_armed) {
		if (raw <= st->fall_val) {
			st->fall_armed = false;
			if (st->fall_en)
				emu_thermo_push(st, IIO_EV_DIR_FALLING);
		}
	} else if (raw > st->fall_val + st->fall_hyst) {
		st->fall_armed = true;
	}
}

static void emu_thermo_rearm(struct emu_thermo *st, enum iio_event_direction dir)
{
	if (dir == IIO_EV_DIR_RISING)
		st->rise_armed = st->raw < st->rise_val;
	else
		st->fall_armed = st->raw > st->fall_val;
}

static void emu_thermo_cycle_work(struct work_struct *work)
{
	struct emu_thermo *st = container_of(to_delayed_work(work),
					     struct emu_thermo, cycle_work);
	unsigned int period;
	u32 t;
	u64 mc;

	mutex_lock(&st->lock);
	period = st->cycle_ms;
	if (!period) {
		mutex_unlock(&st->lock);
		return;
	}
	div_u64_rem(ktime_ms_delta(ktime_get(), st->cycle_start), period, &t);
	if (2 * (u64)t < period)
		mc = div_u64((u64)(EMU_THERMO_HIGH_MC - EMU_THERMO_LOW_MC) * 2 * t,
			     period);
	else
		mc = div_u64((u64)(EMU_THERMO_HIGH_MC - EMU_THERMO_LOW_MC) * 2 *
			     (period - t), period);
	emu_thermo_set_raw(st, emu_thermo_mc_to_raw(EMU_THERMO_LOW_MC + (int)mc));
	mutex_unlock(&st->lock);

	schedule_delayed_work(&st->cycle_work,
			      msecs_to_jiffies(EMU_THERMO_STEP_MS));
}

static int emu_thermo_read_raw(struct iio_dev *indio_dev,
			       struct iio_chan_spec const *chan,
			       int *val, int *val2, long mask)
{
	struct emu_thermo *st = iio_priv(indio_dev);

	switch (mask) {
	case IIO_CHAN_INFO_RAW:
		mutex_lock(&st->lock);
		*val = st->raw;
		mutex_unlock(&st->lock);
		return IIO_VAL_INT;
	case IIO_CHAN_INFO_SCALE:
		*val = 62;
		*val2 = 500000;
		return IIO_VAL_INT_PLUS_MICRO;
	case IIO_CHAN_INFO_OFFSET:
		*val = EMU_THERMO_OFFSET;
		return IIO_VAL_INT;
	default:
		return -EINVAL;
	}
}

static int emu_thermo_read_event_config(struct iio_dev *indio_dev,
					const struct iio_chan_spec *chan,
					enum iio_event_type type,
					enum iio_event_direction dir)
{
	struct emu_thermo *st = iio_priv(indio_dev);
	int ret;

	mutex_lock(&st->lock);
	ret = dir == IIO_EV_DIR_RISING ? st->rise_en : st->fall_en;
	mutex_unlock(&st->lock);
	return ret;
}

static int emu_thermo_write_event_config(struct iio_dev *indio_dev,
					 const struct iio_chan_spec *chan,
					 enum iio_event_type type,
					 enum iio_event_direction dir,
					 int state)
{
	struct emu_thermo *st = iio_priv(indio_dev);

	mutex_lock(&st->lock);
	if (dir == IIO_EV_DIR_RISING)
		st->rise_en = !!state;
	else
		st->fall_en = !!state;
	emu_thermo_rearm(st, dir);
	mutex_unlock(&st->lock);
	return 0;
}

static int emu_thermo_read_event_value(struct iio_dev *indio_dev,
				       const struct iio_chan_spec *chan,
				       enum iio_event_type type,
				       enum iio_event_direction dir,
				       enum iio_event_info info,
				       int *val, int *val2)
{
	struct emu_thermo *st = iio_priv(indio_dev);
	bool rising = dir == IIO_EV_DIR_RISING;

	mutex_lock(&st->lock);
	switch (info) {
	case IIO_EV_INFO_VALUE:
		*val = rising ? st->rise_val : st->fall_val;
		break;
	case IIO_EV_INFO_HYSTERESIS:
		*val = rising ? st->rise_hyst : st->fall_hyst;
		break;
	default:
		mutex_unlock(&st->lock);
		return -EINVAL;
	}
	mutex_unlock(&st->lock);
	return IIO_VAL_INT;
}

static int emu_thermo_write_event_value(struct iio_dev *indio_dev,
					const struct iio_chan_spec *chan,
					enum iio_event_type type,
					enum iio_event_direction dir,
					enum iio_event_info info,
					int val, int val2)
{
	struct emu_thermo *st = iio_priv(indio_dev);
	bool rising = dir == IIO_EV_DIR_RISING;

	if (val2)
		return -EINVAL;	/* raw units are integers */

	switch (info) {
	case IIO_EV_INFO_VALUE:
		if (val < S16_MIN || val > S16_MAX)
			return -EINVAL;
		break;
	case IIO_EV_INFO_HYSTERESIS:
		if (val < 0 || val > S16_MAX)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}

	mutex_lock(&st->lock);
	if (info == IIO_EV_INFO_VALUE) {
		if (rising)
			st->rise_val = val;
		else
			st->fall_val = val;
	} else {
		if (rising)
			st->rise_hyst = val;
		else
			st->fall_hyst = val;
	}
	emu_thermo_rearm(st, dir);
	mutex_unlock(&st->lock);
	return 0;
}

static ssize_t emu_temp_mC_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct emu_thermo *st = iio_priv(dev_to_iio_dev(dev));
	int mc;

	mutex_lock(&st->lock);
	mc = emu_thermo_raw_to_mc(st->raw);
	mutex_unlock(&st->lock);
	return sysfs_emit(buf, "%d\n", mc);
}

static ssize_t emu_temp_mC_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t len)
{
	struct emu_thermo *st = iio_priv(dev_to_iio_dev(dev));
	int mc, ret;

	ret = kstrtoint(buf, 10, &mc);
	if (ret)
		return ret;

	mutex_lock(&st->lock);
	emu_thermo_set_raw(st, emu_thermo_mc_to_raw(mc));
	mutex_unlock(&st->lock);
	return len;
}

static ssize_t emu_heat_cycle_ms_show(struct device *dev,
				      struct device_attribute *attr, char *buf)
{
	struct emu_thermo *st = iio_priv(dev_to_iio_dev(dev));
	unsigned int v;

	mutex_lock(&st->lock);
	v = st->cycle_ms;
	mutex_unlock(&st->lock);
	return sysfs_emit(buf, "%u\n", v);
}

static ssize_t emu_heat_cycle_ms_store(struct device *dev,
				       struct device_attribute *attr,
				       const char *buf, size_t len)
{
	struct emu_thermo *st = iio_priv(dev_to_iio_dev(dev));
	unsigned int v;
	int ret;

	ret = kstrtouint(buf, 10, &v);
	if (ret)
		return ret;
	if (v > 24 * 3600 * 1000)
		return -EINVAL;

	mutex_lock(&st->cfg_lock);
	mutex_lock(&st->lock);
	st->cycle_ms = v;
	st->cycle_start = ktime_get();
	mutex_unlock(&st->lock);
	if (v)
		mod_delayed_work(system_wq, &st->cycle_work, 0);
	else
		cancel_delayed_work_sync(&st->cycle_work);
	mutex_unlock(&st->cfg_lock);
	return len;
}

static IIO_DEVICE_ATTR(emu_temp_mC, 0644, emu_temp_mC_show,
		       emu_temp_mC_store, 0);
static IIO_DEVICE_ATTR(emu_heat_cycle_ms, 0644, emu_heat_cycle_ms_show,
		       emu_heat_cycle_ms_store, 0);

static struct attribute *emu_thermo_attrs[] = {
	&iio_dev_attr_emu_temp_mC.dev_attr.attr,
	&iio_dev_attr_emu_heat_cycle_ms.dev_attr.attr,
	NULL
};

static const struct attribute_group emu_thermo_attr_group = {
	.attrs = emu_thermo_attrs,
};

static const struct iio_info emu_thermo_info = {
	.attrs = &emu_thermo_attr_group,
	.read_raw = emu_thermo_read_raw,
	.read_event_config = emu_thermo_read_event_config,
	.write_event_config = emu_thermo_write_event_config,
	.read_event_value = emu_thermo_read_event_value,
	.write_event_value = emu_thermo_write_event_value,
};

static irqreturn_t emu_thermo_trigger_handler(int irq, void *p)
{
	struct iio_poll_func *pf = p;
	struct iio_dev *indio_dev = pf->indio_dev;
	struct emu_thermo *st = iio_priv(indio_dev);

	mutex_lock(&st->lock);
	st->scan.temp = st->raw;
	mutex_unlock(&st->lock);

	iio_push_to_buffers_with_timestamp(indio_dev, &st->scan, pf->timestamp);
	iio_trigger_notify_done(indio_dev->trig);
	return IRQ_HANDLED;
}

static void emu_thermo_stop_cycle(void *data)
{
	struct emu_thermo *st = data;

	cancel_delayed_work_sync(&st->cycle_work);
}

int emu_thermo_probe(struct device *dev)
{
	struct iio_dev *indio_dev;
	struct emu_thermo *st;
	int ret;

	indio_dev = devm_iio_device_alloc(dev, sizeof(*st));
	if (!indio_dev)
		return -ENOMEM;

	st = iio_priv(indio_dev);
	st->indio_dev = indio_dev;
	ret = devm_mutex_init(dev, &st->lock);
	if (ret)
		return ret;
	ret = devm_mutex_init(dev, &st->cfg_lock);
	if (ret)
		return ret;
	INIT_DELAYED_WORK(&st->cycle_work, emu_thermo_cycle_work);

	st->raw = emu_thermo_mc_to_raw(25000);		/* 240 */
	st->rise_val = emu_thermo_mc_to_raw(45000);	/* 560 */
	st->fall_val = emu_thermo_mc_to_raw(35000);	/* 400 */
	st->rise_hyst = 16;				/* 1 °C */
	st->fall_hyst = 16;
	emu_thermo_rearm(st, IIO_EV_DIR_RISING);
	emu_thermo_rearm(st, IIO_EV_DIR_FALLING);

	indio_dev->name = "emu-thermo";
	indio_dev->label = "board-temp";
	indio_dev->info = &emu_thermo_info;
	indio_dev->channels = emu_thermo_channels;
	indio_dev->num_channels = ARRAY_SIZE(emu_thermo_channels);
	indio_dev->modes = INDIO_DIRECT_MODE;

	ret = devm_iio_triggered_buffer_setup(dev, indio_dev,
					      iio_pollfunc_store_time,
					      emu_thermo_trigger_handler, NULL);
	if (ret)
		return ret;

	/* Runs after unregistration: no attribute can re-arm the work then. */
	ret = devm_add_action_or_reset(dev, emu_thermo_stop_cycle, st);
	if (ret)
		return ret;

	return devm_iio_device_register(dev, indio_dev);
}
