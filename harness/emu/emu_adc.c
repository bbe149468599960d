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
 *
 * Without a trigger, emu_free_running selects a kernel thread as the scan
 * source: 1 = at sampling_frequency through iio_push_to_buffers; 2 = as fast
 * as the consumers keep up: buffer0 gets a scan pushed whenever its kfifo has
 * room (and buffer1, if enabled too, has a block queued), so nothing is ever
 * dropped; buffer1 alone gets every queued DMABUF block filled at once, in
 * its own scan layout, straight into the block's mapping.
 */
#include <linux/bitops.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include <linux/iio/iio.h>
#include <linux/iio/buffer.h>
#include <linux/iio/buffer_impl.h>
#include <linux/iio/sysfs.h>
#include <linux/iio/trigger_consumer.h>
#include <linux/iio/triggered_buffer.h>

#include "emu.h"

#define EMU_ADC_NUM_ELEMS	8
#define EMU_ADC_TS_INDEX	8
#define EMU_ADC_SCAN_MAX	64
#define EMU_ADC_FREQ_MAX	1000000
#define EMU_ADC_NUM_SLOTS	11

/* emu_free_running */
enum {
	EMU_ADC_FR_OFF,		/* a trigger is required */
	EMU_ADC_FR_RATE,	/* kthread at sampling_frequency */
	EMU_ADC_FR_FAST,	/* kthread as fast as the consumers keep up */
};

/* Mode 2 polls a full kfifo: 20 us, doubling while idle, up to 2 ms. */
#define EMU_ADC_POLL_MIN_NS	(20 * NSEC_PER_USEC)
#define EMU_ADC_POLL_MAX_NS	(2 * NSEC_PER_MSEC)
/* Mode 2, buffer1 alone: sleep until a block is enqueued (re-check now and then). */
#define EMU_ADC_IDLE_NS		(100 * NSEC_PER_MSEC)
/* Scans pushed (or written) between two cond_resched(). */
#define EMU_ADC_BURST		256

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

/* One value slot of a scan layout (see emu_adc_layout_build()). */
struct emu_adc_slot {
	u16 off;
	u8 k, bits, shift, size;
	bool be;
};

struct emu_adc_layout {
	struct emu_adc_slot slot[EMU_ADC_NUM_SLOTS];
	unsigned int nslots;
	int ts_off;			/* -1: no timestamp */
	unsigned int size;		/* bytes per scan */
};

struct emu_adc {
	struct iio_dev *indio_dev;
	struct emu_dmabuf *b1;
	struct mutex lock;		/* samp_freq, free_running, fr_task */
	unsigned int samp_freq;
	unsigned int free_running;	/* EMU_ADC_FR_* */
	struct task_struct *fr_task;
	spinlock_t stat_lock;
	u64 dropped;			/* P: stat_lock; scans buffer0 refused */
	u64 next_n;			/* producer only (trigger thread or kthread) */
	atomic64_t last_n;		/* n of the most recent scan */
	struct emu_adc_layout fr_layout;	/* mode 2 thread only: the layout it writes */
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

/*
 * The scan layout of a buffer with @mask and @ts, by the core's rules (what
 * iio_compute_scan_bytes() and the demux produce): ascending scan index, each
 * element aligned to its own size (storage x repeat), the timestamp last,
 * the scan padded to its largest element.
 */
static void emu_adc_layout_build(struct emu_adc_layout *l, const long *mask,
				 bool ts)
{
	unsigned int si, r, off = 0, largest = 1;

	memset(l, 0, sizeof(*l));
	for_each_set_bit(si, (const unsigned long *)mask, EMU_ADC_NUM_ELEMS) {
		const struct emu_adc_elem *e = &emu_adc_elems[si];
		unsigned int sz = e->storage / 8, len = sz * e->repeat;

		off = ALIGN(off, len);
		for (r = 0; r < e->repeat; r++) {
			struct emu_adc_slot *s = &l->slot[l->nslots++];

			s->off = off + r * sz;
			s->k = e->k + r;
			s->bits = e->bits;
			s->shift = e->shift;
			s->size = sz;
			s->be = e->big_endian;
		}
		off += len;
		largest = max(largest, len);
	}
	l->ts_off = -1;
	if (ts) {
		off = ALIGN(off, sizeof(s64));
		l->ts_off = off;
		off += sizeof(s64);
		largest = max_t(unsigned int, largest, sizeof(s64));
	}
	l->size = ALIGN(off, largest);
}

/* Writes the value slots of scan @n in layout @l at @dst (padding untouched). */
static void emu_adc_write_slots(const struct emu_adc_layout *l, u8 *dst, u64 n)
{
	unsigned int j;

	for (j = 0; j < l->nslots; j++) {
		const struct emu_adc_slot *s = &l->slot[j];
		u32 raw = emu_adc_raw(s->k, s->bits, n);
		u32 v = (raw << s->shift) | ((u32)n & (BIT(s->shift) - 1));

		if (s->size == 4)
			put_unaligned_le32(v, dst + s->off);
		else if (s->be)
			put_unaligned_be16(v, dst + s->off);
		else
			put_unaligned_le16(v, dst + s->off);
	}
}

/*
 * Writes @count consecutive whole scans n0, n0+1, ... in layout @l at @dst,
 * slot by slot (a tight loop per slot: raw advances by its step, the junk
 * bits are the low bits of n), in chunks that stay in the cache.
 */
#define EMU_ADC_FILL_CHUNK	1024
static void emu_adc_write_scans(const struct emu_adc_layout *l, u8 *dst,
				u64 n0, size_t count, s64 timestamp)
{
	size_t done, i;
	unsigned int j;

	for (done = 0; done < count; done += EMU_ADC_FILL_CHUNK) {
		size_t cnt = min_t(size_t, count - done, EMU_ADC_FILL_CHUNK);
		u8 *base = dst + done * l->size;
		u64 n = n0 + done;

		memset(base, 0, cnt * l->size);
		for (j = 0; j < l->nslots; j++) {
			const struct emu_adc_slot *s = &l->slot[j];
			u32 mask = (u32)(BIT_ULL(s->bits) - 1);
			u32 step = BIT(s->bits - 8) + 1;
			u32 jmask = BIT(s->shift) - 1;
			u32 raw = emu_adc_raw(s->k, s->bits, n);
			u32 junk = (u32)n;
			u8 *p = base + s->off;

			if (s->size == 4) {
				for (i = 0; i < cnt; i++, p += l->size, junk++) {
					put_unaligned_le32((raw << s->shift) | (junk & jmask), p);
					raw = (raw + step) & mask;
				}
			} else if (s->be) {
				for (i = 0; i < cnt; i++, p += l->size, junk++) {
					put_unaligned_be16((raw << s->shift) | (junk & jmask), p);
					raw = (raw + step) & mask;
				}
			} else {
				for (i = 0; i < cnt; i++, p += l->size, junk++) {
					put_unaligned_le16((raw << s->shift) | (junk & jmask), p);
					raw = (raw + step) & mask;
				}
			}
		}
		if (l->ts_off >= 0)
			for (i = 0; i < cnt; i++)
				memcpy(base + i * l->size + l->ts_off, &timestamp,
				       sizeof(timestamp));
		cond_resched();
	}
}

/*
 * Mode 2, buffer1 alone: fill the head DMABUF block at once with the next
 * scans, in buffer1's layout, and complete it.  Returns false if no block was
 * queued.
 */
static bool emu_adc_fast_fill(struct emu_adc *st, const struct emu_adc_layout *l)
{
	struct iio_buffer *b1 = emu_dmabuf_to_iio(st->b1);
	struct emu_dmabuf_blk blk;
	u64 n0 = st->next_n;

	if (!emu_dmabuf_head(st->b1, &blk))
		return false;

	if (l->size != b1->bytes_per_datum) {
		/* Cannot happen: our layout rules are the core's. */
		emu_dmabuf_head_done(st->b1, -EIO);
		return true;
	}
	/* One timestamp per block: iio_get_time_ns() when it is filled. */
	emu_adc_write_scans(l, blk.vaddr, n0, blk.nscans,
			    iio_get_time_ns(st->indio_dev));
	st->next_n = n0 + blk.nscans;
	atomic64_set(&st->last_n, st->next_n - 1);
	emu_dmabuf_head_done(st->b1, 0);
	return true;
}

/*
 * Mode 2, one scan through the core (iio_push_to_buffers), like
 * emu_adc_produce() but with the device's layout @l precomputed: st->scan's
 * padding was zeroed when the thread started.
 */
static void emu_adc_fast_produce(struct emu_adc *st, const struct emu_adc_layout *l,
				 bool b1_active)
{
	struct iio_dev *indio_dev = st->indio_dev;
	u64 n = st->next_n++;
	u64 seen = 0;

	emu_adc_write_slots(l, st->scan, n);
	atomic64_set(&st->last_n, n);

	if (b1_active)
		seen = emu_dmabuf_seen(st->b1);
	if (iio_push_to_buffers_with_timestamp(indio_dev, st->scan,
					       iio_get_time_ns(indio_dev))) {
		/* Not expected (we checked for room); accounted as in emu_adc_produce(). */
		spin_lock(&st->stat_lock);
		st->dropped++;
		if (b1_active && emu_dmabuf_seen(st->b1) == seen)
			st->dropped++;
		spin_unlock(&st->stat_lock);
	}
}

/*
 * Mode 2 with buffer0 enabled: push scans while buffer0's kfifo has room and,
 * if buffer1 is enabled too, it has a block queued, so neither drops one.
 * Returns the number of scans pushed.
 */
static unsigned int emu_adc_fast_push(struct emu_adc *st, const struct emu_adc_layout *l,
				      struct iio_buffer *b0, bool b1_active)
{
	size_t avail = b0->access->data_available(b0);
	unsigned int room, n = 0;

	/* The kfifo holds at least length scans (kfifo rounds up to 2^k). */
	room = avail < b0->length ? b0->length - avail : 0;
	while (n < room && n < EMU_ADC_BURST) {
		struct emu_dmabuf_blk blk;

		/* A block that can take a scan (smaller ones complete with EINVAL). */
		if (b1_active && !emu_dmabuf_head(st->b1, &blk))
			break;
		emu_adc_fast_produce(st, l, b1_active);
		n++;
	}
	return n;
}

/* Free-running mode 2: produce as fast as the consumers keep up. */
static int emu_adc_fast_run(void *data)
{
	struct emu_adc *st = data;
	struct iio_buffer *b0 = st->indio_dev->buffer;
	struct iio_buffer *b1 = emu_dmabuf_to_iio(st->b1);
	/* The set of enabled buffers is fixed while this thread runs. */
	bool push = emu_buffer_is_active(b0);
	/* Without DMABUF (< 6.11) buffer1 is a kfifo this mode does not serve. */
	bool b1_active = EMU_HAVE_DMABUF && emu_buffer_is_active(b1);
	struct emu_adc_layout *l = &st->fr_layout;
	u64 backoff = EMU_ADC_POLL_MIN_NS;

	if (push) {
		/* The device's scan (the core demuxes it); the core adds the timestamp. */
		emu_adc_layout_build(l, (const long *)st->indio_dev->active_scan_mask,
				     false);
		memset(st->scan, 0, sizeof(st->scan));
	} else {
		emu_adc_layout_build(l, b1->scan_mask, b1->scan_timestamp);
	}

	while (!kthread_should_stop()) {
		u64 seq = emu_dmabuf_enq_seq(st->b1);
		bool progress;

		if (push)
			progress = emu_adc_fast_push(st, l, b0, b1_active) > 0;
		else
			progress = emu_adc_fast_fill(st, l);

		if (progress) {
			backoff = EMU_ADC_POLL_MIN_NS;
			cond_resched();
			continue;
		}
		/* Nothing to do: buffer0 full (poll), or no block (enqueue wakes us). */
		if (push && !(b1_active && !emu_dmabuf_queued(st->b1))) {
			emu_dmabuf_wait(st->b1, seq, backoff);
			backoff = min_t(u64, backoff * 2, EMU_ADC_POLL_MAX_NS);
		} else {
			emu_dmabuf_wait(st->b1, seq, EMU_ADC_IDLE_NS);
		}
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
	unsigned int mode;

	if (iio_device_get_current_mode(indio_dev) != INDIO_BUFFER_SOFTWARE)
		return 0;

	mutex_lock(&st->lock);
	mode = st->free_running;
	mutex_unlock(&st->lock);

	task = kthread_run(mode == EMU_ADC_FR_FAST ? emu_adc_fast_run :
			   emu_adc_free_run, st, "iio-emu-adc");
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
	unsigned int v;

	mutex_lock(&st->lock);
	v = st->free_running;
	mutex_unlock(&st->lock);
	return sysfs_emit(buf, "%u\n", v);
}

static ssize_t emu_free_running_store(struct device *dev,
				      struct device_attribute *attr,
				      const char *buf, size_t len)
{
	struct iio_dev *indio_dev = dev_to_iio_dev(dev);
	struct emu_adc *st = iio_priv(indio_dev);
	unsigned int v;
	bool on;
	int ret;

	if (sysfs_streq(buf, "2")) {
		v = EMU_ADC_FR_FAST;
	} else {
		/* 0/1 (and the other kstrtobool spellings) as before mode 2 existed */
		ret = kstrtobool(buf, &on);
		if (ret)
			return ret;
		v = on ? EMU_ADC_FR_RATE : EMU_ADC_FR_OFF;
	}

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
	/* SOFTWARE: buffers may run without a trigger when emu_free_running=1/2. */
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
