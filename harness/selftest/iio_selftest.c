// SPDX-License-Identifier: GPL-2.0
/*
 * iio_selftest - guest-side checks of the iio_emu devices through the kernel's
 * IIO userspace API (sysfs, /dev/iio:deviceX, ioctls, DMABUF).
 *
 *   iio_selftest capture [N [HZ]]  hrtimer trigger, emu-adc buffer0, N scans vs pattern
 *   iio_selftest freerun [N [HZ]]  the same without a trigger (emu_free_running)
 *   iio_selftest fast [N [BLOCKS]] emu-adc emu_free_running=2: N scans via read(),
 *                            BLOCKS DMABUF blocks of 64 KiB, both buffers, idle CPU
 *   iio_selftest dacfast     emu-dac emu_free_running=1: write(), DMABUF, cyclic, idle CPU
 *   iio_selftest fastunbind  unbind/bind while both devices run free (mode 2 / 1)
 *   iio_selftest bench [S]   free-running throughput, S seconds per line (numbers, no checks)
 *   iio_selftest sysfstrig   sysfs trigger fires single scans (emu-adc, emu-thermo)
 *   iio_selftest events      emu-thermo threshold events through the event fd
 *   iio_selftest dmabuf      emu-adc buffer1: GET_FD, DMABUF attach/enqueue/complete/cancel
 *   iio_selftest dac         emu-dac: write() through buffer0, DMABUF incl. cyclic
 *   iio_selftest unbind      unbind/bind the platform device while fds are open
 *   iio_selftest stress [N]  N rounds: stream everything, unbind mid-stream, bind
 *   iio_selftest rmmod KO    rmmod while a buffer fd is held, then insmod KO
 *   iio_selftest write P V   write V to P; exit status = errno (for EINVAL checks)
 *
 * Every check prints one line "PASS <what>" or "FAIL <what>: <why>"; the exit
 * status is 1 if any check failed.  Every wait has a timeout.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/sync_file.h>

/* IIO UAPI, spelled out here (the host's uapi headers may predate DMABUF). */
#define EMU_IIO_GET_EVENT_FD_IOCTL	_IOR('i', 0x90, int)
#define EMU_IIO_BUFFER_GET_FD_IOCTL	_IOWR('i', 0x91, int)
#define EMU_IIO_DMABUF_ATTACH_IOCTL	_IOW('i', 0x92, int)
#define EMU_IIO_DMABUF_DETACH_IOCTL	_IOW('i', 0x93, int)
struct emu_iio_dmabuf {
	uint32_t fd;
	uint32_t flags;
	uint64_t bytes_used;
};
#define EMU_IIO_DMABUF_ENQUEUE_IOCTL	_IOW('i', 0x94, struct emu_iio_dmabuf)
#define EMU_IIO_DMABUF_CYCLIC		1
struct emu_iio_event_data {
	uint64_t id;
	int64_t timestamp;
};

#define SYS_IIO "/sys/bus/iio/devices"
#define CFG_HRTIMER "/sys/kernel/config/iio/triggers/hrtimer"
#define SYSFS_TRIG SYS_IIO "/iio_sysfs_trigger"
#define PLATFORM_DRV "/sys/bus/platform/drivers/iio-emu"

#define IIO_TEMP_TYPE 9		/* enum iio_chan_type IIO_TEMP */

static int n_pass, n_fail;

/* The IIO DMABUF API exists from Linux 6.11 on; older kernels (Debian bookworm's 6.1 on ARM)
 * get the read()/write() fallback checked instead (nodmabuf). */
static bool kernel_has_dmabuf(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return true;
	return major > 6 || (major == 6 && minor >= 11);
}

static void result(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("%s ", ok ? "PASS" : "FAIL");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
	if (ok)
		n_pass++;
	else
		n_fail++;
}

#define CHECK(cond, ...) result(!!(cond), __VA_ARGS__)

static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("  # ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- sysfs */

/* Returns 0 or -errno. */
static int wr(const char *path, const char *val)
{
	int fd, ret = 0;
	ssize_t n;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int wrf(const char *val, const char *fmt, ...)
{
	char path[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return wr(path, val);
}

/* Reads and trims a sysfs value; returns 0 or -errno. */
static int rd(const char *path, char *buf, size_t len)
{
	int fd;
	ssize_t n;

	buf[0] = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	close(fd);
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

static int rdf(char *buf, size_t len, const char *fmt, ...)
{
	char path[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return rd(path, buf, len);
}

static long long rdll(const char *fmt, ...)
{
	char path[512], buf[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (rd(path, buf, sizeof(buf)))
		return LLONG_MIN;
	return strtoll(buf, NULL, 0);
}

/* Waits until the integer attribute is >= target; returns its last value. */
static long long wait_ge(long long target, int timeout_ms, const char *path)
{
	double end = now_ms() + timeout_ms;
	long long v;

	for (;;) {
		v = rdll("%s", path);
		if (v >= target || now_ms() > end)
			return v;
		sleep_ms(1);
	}
}

static bool isdigit_str(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

struct iiodev {
	char path[256];		/* /sys/bus/iio/devices/iio:deviceN */
	char chr[64];		/* /dev/iio:deviceN */
	int num;
};

/* Finds an IIO device (or trigger, prefix "trigger") by its name. */
static bool find_by_name(const char *prefix, const char *name, struct iiodev *d)
{
	DIR *dir = opendir(SYS_IIO);
	struct dirent *de;
	char buf[128];
	bool found = false;

	if (!dir)
		return false;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		if (!isdigit_str(de->d_name + strlen(prefix)))
			continue;
		if (rdf(buf, sizeof(buf), SYS_IIO "/%s/name", de->d_name))
			continue;
		if (strcmp(buf, name))
			continue;
		snprintf(d->path, sizeof(d->path), SYS_IIO "/%.64s", de->d_name);
		d->num = atoi(de->d_name + strlen(prefix));
		snprintf(d->chr, sizeof(d->chr), "/dev/iio:device%d", d->num);
		found = true;
		break;
	}
	closedir(dir);
	return found;
}

static bool find_dev(const char *name, struct iiodev *d)
{
	return find_by_name("iio:device", name, d);
}

static bool find_trig(const char *name, struct iiodev *t)
{
	return find_by_name("trigger", name, t);
}

/* ------------------------------------------------------------- triggers */

static bool hrtimer_create(const char *name, int freq, struct iiodev *t)
{
	char path[256], val[32];
	double end = now_ms() + 3000;

	snprintf(path, sizeof(path), CFG_HRTIMER "/%s", name);
	if (mkdir(path, 0755) && errno != EEXIST) {
		note("mkdir %s: %s", path, strerror(errno));
		return false;
	}
	while (!find_trig(name, t)) {
		if (now_ms() > end)
			return false;
		sleep_ms(5);
	}
	snprintf(val, sizeof(val), "%d", freq);
	return wrf(val, "%s/sampling_frequency", t->path) == 0;
}

static void hrtimer_remove(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), CFG_HRTIMER "/%s", name);
	rmdir(path);
}

static bool sysfstrig_create(int id, struct iiodev *t)
{
	char val[32], name[32];

	snprintf(val, sizeof(val), "%d", id);
	snprintf(name, sizeof(name), "sysfstrig%d", id);
	if (!find_trig(name, t)) {
		int ret = wr(SYSFS_TRIG "/add_trigger", val);

		if (ret) {
			note("add_trigger %d: %s", id, strerror(-ret));
			return false;
		}
	}
	return find_trig(name, t);
}

static void sysfstrig_remove(int id)
{
	char val[32];

	snprintf(val, sizeof(val), "%d", id);
	wr(SYSFS_TRIG "/remove_trigger", val);
}

static int fire(const struct iiodev *t)
{
	return wrf("1", "%s/trigger_now", t->path);
}

/* A zero-length write never reaches sysfs: detach by writing "\n". */
static int set_trigger(const struct iiodev *d, const char *name)
{
	return wrf(name[0] ? name : "\n", "%s/trigger/current_trigger", d->path);
}

/* -------------------------------------------------------- scan layouts */

struct elem {
	const char *name;	/* sysfs scan element prefix, e.g. in_voltage0 */
	int kbase;		/* first value slot of the documented pattern */
	bool en;
	int index;
	bool be, is_signed;
	int bits, storage, shift, repeat;
	int offset;		/* byte offset in the scan */
};

struct layout {
	struct elem e[10];
	int n;
	bool ts;
	int ts_offset;
	int size;		/* bytes per scan */
};

static const struct {
	const char *name;
	int kbase;
} adc_elems[] = {
	{ "in_voltage0", 0 }, { "in_voltage1", 1 }, { "in_voltage2", 2 },
	{ "in_voltage3", 3 }, { "in_voltage4", 4 }, { "in_accel_x", 8 },
	{ "in_accel_y", 9 }, { "in_accel_z", 10 },
};
#define ADC_NELEMS 8

/* Parses "[be|le]:[s|u]bits/storage[Xrepeat]>>shift". */
static bool parse_type(const char *s, struct elem *e)
{
	char *p;

	if (strncmp(s, "be:", 3) && strncmp(s, "le:", 3))
		return false;
	e->be = s[0] == 'b';
	if (s[3] != 's' && s[3] != 'u')
		return false;
	e->is_signed = s[3] == 's';
	e->bits = strtol(s + 4, &p, 10);
	if (*p++ != '/')
		return false;
	e->storage = strtol(p, &p, 10);
	e->repeat = 1;
	if (*p == 'X')
		e->repeat = strtol(p + 1, &p, 10);
	if (strncmp(p, ">>", 2))
		return false;
	e->shift = strtol(p + 2, &p, 10);
	return *p == 0 && e->bits > 0 && e->storage % 8 == 0 && e->repeat > 0;
}

/*
 * Builds the layout of emu-adc's buffer @buf from sysfs (types, indexes) and
 * the channels we enabled (@mask bit i = adc_elems[i]), following the IIO
 * rules: ascending index, each element aligned to its own size, the
 * timestamp last, the scan padded to its largest element.
 */
static bool adc_layout(const struct iiodev *d, int buf, unsigned int mask,
		       bool ts, struct layout *l)
{
	char t[64];
	int i, off = 0, largest = 0;

	memset(l, 0, sizeof(*l));
	for (i = 0; i < ADC_NELEMS; i++) {
		struct elem *e = &l->e[l->n];

		if (!(mask & (1u << i)))
			continue;
		e->name = adc_elems[i].name;
		e->kbase = adc_elems[i].kbase;
		e->en = true;
		if (rdf(t, sizeof(t), "%s/buffer%d/%s_type", d->path, buf, e->name) ||
		    !parse_type(t, e)) {
			note("bad type for %s: '%s'", e->name, t);
			return false;
		}
		e->index = (int)rdll("%s/buffer%d/%s_index", d->path, buf, e->name);
		l->n++;
	}
	/* Our table is in index order already; verify rather than sort. */
	for (i = 1; i < l->n; i++)
		if (l->e[i].index <= l->e[i - 1].index)
			return false;
	for (i = 0; i < l->n; i++) {
		int sz = l->e[i].storage / 8 * l->e[i].repeat;

		off = (off + sz - 1) / sz * sz;
		l->e[i].offset = off;
		off += sz;
		if (sz > largest)
			largest = sz;
	}
	l->ts = ts;
	if (ts) {
		off = (off + 7) / 8 * 8;
		l->ts_offset = off;
		off += 8;
		if (8 > largest)
			largest = 8;
	}
	l->size = (off + largest - 1) / largest * largest;
	return true;
}

/* The documented pattern. */
static uint32_t pattern_raw(unsigned int k, unsigned int bits, uint64_t n)
{
	uint64_t step = (1ULL << (bits - 8)) + 1;

	return (uint32_t)((k * 961ULL + n * step) & ((1ULL << bits) - 1));
}

static void expected_scan(const struct layout *l, uint64_t n, uint8_t *out)
{
	int i, r;

	memset(out, 0, l->size);
	for (i = 0; i < l->n; i++) {
		const struct elem *e = &l->e[i];
		int sz = e->storage / 8;

		for (r = 0; r < e->repeat; r++) {
			uint64_t raw = pattern_raw(e->kbase + r, e->bits, n);
			uint64_t v = (raw << e->shift) |
				     (n & ((1ULL << e->shift) - 1));
			uint8_t *p = out + e->offset + r * sz;
			int b;

			for (b = 0; b < sz; b++) {
				int shift = e->be ? 8 * (sz - 1 - b) : 8 * b;

				p[b] = (uint8_t)(v >> shift);
			}
		}
	}
}

static int64_t scan_ts(const struct layout *l, const uint8_t *scan)
{
	int64_t ts;

	memcpy(&ts, scan + l->ts_offset, 8);
	return ts;
}

/*
 * Compares @count scans starting with scan number @n0 against the pattern
 * (timestamps excluded: they must be non-decreasing and non-zero).
 * Returns the number of bad scans; describes the first few.
 */
static int verify_scans(const struct layout *l, const uint8_t *data,
			int count, uint64_t n0, const char *what)
{
	uint8_t exp[128];
	int bad = 0, i, j;
	int64_t last_ts = INT64_MIN;

	for (i = 0; i < count; i++) {
		const uint8_t *s = data + (size_t)i * l->size;

		expected_scan(l, n0 + i, exp);
		for (j = 0; j < l->size; j++) {
			if (l->ts && j >= l->ts_offset && j < l->ts_offset + 8)
				continue;
			if (s[j] != exp[j])
				break;
		}
		if (j < l->size) {
			if (bad < 3)
				note("%s: scan n=%" PRIu64 " byte %d: got 0x%02x want 0x%02x",
				     what, n0 + i, j, s[j], exp[j]);
			bad++;
			continue;
		}
		if (l->ts) {
			int64_t ts = scan_ts(l, s);

			if (ts == 0 || ts < last_ts) {
				if (bad < 3)
					note("%s: scan n=%" PRIu64 " timestamp %" PRId64 " after %" PRId64,
					     what, n0 + i, ts, last_ts);
				bad++;
			}
			last_ts = ts;
		}
	}
	return bad;
}

/* n of a scan from its voltage1 value: (961 + 257 n) mod 65536, 257^-1 = 65281. */
static bool scan_n_from_v1(const struct layout *l, const uint8_t *scan,
			   uint64_t *n)
{
	int i;

	for (i = 0; i < l->n; i++) {
		if (l->e[i].kbase == 1) {
			uint16_t v = (uint16_t)(scan[l->e[i].offset] |
						scan[l->e[i].offset + 1] << 8);

			*n = (uint16_t)((uint32_t)(uint16_t)(v - 961) * 65281u);
			return true;
		}
	}
	return false;
}

/* Configures emu-adc buffer @buf: channels in @mask, timestamp, length. */
static bool adc_buffer_setup(const struct iiodev *d, int buf, unsigned int mask,
			     bool ts, int length)
{
	char val[32];
	int i, ret = 0;

	wrf("0", "%s/buffer%d/enable", d->path, buf);
	for (i = 0; i < ADC_NELEMS; i++)
		ret |= wrf(mask & (1u << i) ? "1" : "0", "%s/buffer%d/%s_en",
			   d->path, buf, adc_elems[i].name);
	ret |= wrf(ts ? "1" : "0", "%s/buffer%d/in_timestamp_en", d->path, buf);
	snprintf(val, sizeof(val), "%d", length);
	ret |= wrf(val, "%s/buffer%d/length", d->path, buf);
	return ret == 0;
}

/* Reads up to @want bytes from a non-blocking fd, waiting with poll(). */
static size_t read_full(int fd, uint8_t *dst, size_t want, int timeout_ms)
{
	double end = now_ms() + timeout_ms;
	size_t got = 0;

	while (got < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)(end - now_ms());
		ssize_t n;

		if (left <= 0)
			break;
		if (poll(&p, 1, left) <= 0)
			break;
		n = read(fd, dst + got, want - got);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			note("read: %s", strerror(errno));
			break;
		}
		got += n;
	}
	return got;
}

/* ---------------------------------------------------------------- DMABUF */

static int heap_alloc(size_t len)
{
	struct dma_heap_allocation_data a = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	int hfd, ret;

	hfd = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (hfd < 0) {
		note("open /dev/dma_heap/system: %s", strerror(errno));
		return -1;
	}
	ret = ioctl(hfd, DMA_HEAP_IOCTL_ALLOC, &a);
	close(hfd);
	if (ret) {
		note("DMA_HEAP_IOCTL_ALLOC: %s", strerror(errno));
		return -1;
	}
	return (int)a.fd;
}

static int dmabuf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
}

static bool wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & events);
}

static int iio_ioctl_int(int fd, unsigned long req, int arg)
{
	return ioctl(fd, req, &arg) ? -errno : arg;
}

static int dmabuf_attach(int bfd, int dfd)
{
	return ioctl(bfd, EMU_IIO_DMABUF_ATTACH_IOCTL, &dfd) ? -errno : 0;
}

static int dmabuf_detach(int bfd, int dfd)
{
	return ioctl(bfd, EMU_IIO_DMABUF_DETACH_IOCTL, &dfd) ? -errno : 0;
}

static int enqueue(int bfd, int dfd, uint64_t bytes, uint32_t flags)
{
	struct emu_iio_dmabuf q = { .fd = (uint32_t)dfd, .flags = flags,
				    .bytes_used = bytes };

	return ioctl(bfd, EMU_IIO_DMABUF_ENQUEUE_IOCTL, &q) ? -errno : 0;
}

/* A sync_file with the fences currently on the DMABUF (to see errors). */
static int export_sync(int dfd)
{
	struct dma_buf_export_sync_file e = { .flags = DMA_BUF_SYNC_RW, .fd = -1 };

	if (ioctl(dfd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &e))
		return -1;
	return e.fd;
}

/* 1 signalled, 0 active, <0 the fence's error. */
static int sync_status(int sfd)
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	if (ioctl(sfd, SYNC_IOC_FILE_INFO, &info))
		return -1000;
	return info.status;
}

/* Copies a DMABUF's first @len bytes out, bracketed by SYNC START/END. */
static bool dmabuf_read(int dfd, uint8_t *dst, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, dfd, 0);

	if (p == MAP_FAILED) {
		note("mmap dmabuf: %s", strerror(errno));
		return false;
	}
	dmabuf_sync(dfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	memcpy(dst, p, len);
	dmabuf_sync(dfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	munmap(p, len);
	return true;
}

static bool dmabuf_write(int dfd, const uint8_t *src, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);

	if (p == MAP_FAILED) {
		note("mmap dmabuf: %s", strerror(errno));
		return false;
	}
	dmabuf_sync(dfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	memcpy(p, src, len);
	dmabuf_sync(dfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	munmap(p, len);
	return true;
}

/* zlib CRC-32 */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		int k;

		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
	}
	return ~crc;
}

/* ------------------------------------------------------------ (b) capture */

#define ADC_ALL 0xffu

/*
 * Captures @nscans scans of all channels through buffer0 with an hrtimer
 * trigger at @freq Hz, or (@freerun) without a trigger in emu-adc's
 * free-running mode at sampling_frequency = @freq.
 */
static int cmd_capture(int nscans, int freq, bool freerun)
{
	const char *tag = freerun ? "freerun" : "capture";
	struct iiodev adc, trig;
	struct layout l;
	uint8_t *data = NULL;
	char val[32], cur[64];
	size_t got;
	int fd = -1;
	bool ok;

	if (!find_dev("emu-adc", &adc)) {
		CHECK(false, "%s: emu-adc present", tag);
		return 1;
	}
	if (freerun) {
		snprintf(val, sizeof(val), "%d", freq);
		CHECK(set_trigger(&adc, "") == 0 &&
		      wrf(val, "%s/sampling_frequency", adc.path) == 0 &&
		      wrf("1", "%s/emu_free_running", adc.path) == 0,
		      "%s: no trigger, sampling_frequency %d, emu_free_running 1", tag, freq);
	} else {
		ok = hrtimer_create("emuselftest", freq, &trig);
		CHECK(ok, "%s: hrtimer trigger emuselftest created via configfs at %d Hz", tag, freq);
		if (!ok)
			goto out;
	}

	ok = adc_buffer_setup(&adc, 0, ADC_ALL, true, 4096) &&
	     adc_layout(&adc, 0, ADC_ALL, true, &l);
	CHECK(ok && l.size == 40, "%s: buffer0 all channels + timestamp, length 4096, scan %d bytes (want 40)",
	      tag, ok ? l.size : -1);
	if (!ok)
		goto out;
	wrf("0", "%s/emu_dropped_scans", adc.path);
	if (!freerun)
		CHECK(set_trigger(&adc, "emuselftest") == 0, "%s: current_trigger = emuselftest", tag);
	fd = open(adc.chr, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	CHECK(fd >= 0, "%s: open %s", tag, adc.chr);
	if (fd < 0)
		goto out;
	CHECK(wrf("1", "%s/buffer0/enable", adc.path) == 0, "%s: buffer0 enable", tag);

	data = calloc(nscans, l.size);
	{
		double t0 = now_ms();

		got = read_full(fd, data, (size_t)nscans * l.size, 90000);
		note("read %zu bytes in %.0f ms", got, now_ms() - t0);
	}
	CHECK(got == (size_t)nscans * l.size, "%s: read %d scans (%zu bytes)", tag, nscans, got);
	if (got == (size_t)nscans * l.size) {
		int bad = verify_scans(&l, data, nscans, 0, tag);

		CHECK(bad == 0, "%s: all bytes of %d scans equal the pattern, timestamps monotonic (%d bad)",
		      tag, nscans, bad);
	}
	CHECK(wrf("0", "%s/buffer0/enable", adc.path) == 0, "%s: buffer0 disable", tag);
out:
	if (fd >= 0)
		close(fd);
	free(data);
	if (freerun) {
		CHECK(wrf("0", "%s/emu_free_running", adc.path) == 0 &&
		      wrf("1000", "%s/sampling_frequency", adc.path) == 0,
		      "%s: emu_free_running 0, sampling_frequency 1000", tag);
	} else {
		CHECK(set_trigger(&adc, "") == 0 &&
		      rdf(cur, sizeof(cur), "%s/trigger/current_trigger", adc.path) == 0 &&
		      cur[0] == 0, "%s: trigger detached", tag);
		hrtimer_remove("emuselftest");
		CHECK(!find_trig("emuselftest", &trig), "%s: hrtimer trigger removed (rmdir)", tag);
	}
	return n_fail ? 1 : 0;
}

/* ---------------------------------------------------- (c) sysfs trigger */

static int cmd_sysfstrig(void)
{
	struct iiodev adc, th, trig;
	struct layout l;
	uint8_t data[40 * 8];
	int fd, i;
	size_t got;
	ssize_t n;
	char val[64];

	if (!find_dev("emu-adc", &adc) || !find_dev("emu-thermo", &th)) {
		CHECK(false, "sysfstrig: devices present");
		return 1;
	}
	CHECK(sysfstrig_create(77, &trig), "sysfstrig: add_trigger 77 -> sysfstrig77");

	/* emu-adc: exactly one scan per trigger_now */
	CHECK(adc_buffer_setup(&adc, 0, ADC_ALL, true, 64) &&
	      adc_layout(&adc, 0, ADC_ALL, true, &l), "sysfstrig: emu-adc buffer0 configured");
	CHECK(set_trigger(&adc, "sysfstrig77") == 0, "sysfstrig: emu-adc current_trigger = sysfstrig77");
	fd = open(adc.chr, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	CHECK(wrf("1", "%s/buffer0/enable", adc.path) == 0, "sysfstrig: emu-adc buffer0 enable");
	for (i = 0; i < 5; i++) {
		char p[300];

		fire(&trig);
		snprintf(p, sizeof(p), "%s/buffer0/data_available", adc.path);
		if (wait_ge(i + 1, 5000, p) < i + 1)
			break;
	}
	CHECK(i == 5, "sysfstrig: 5 x trigger_now -> 5 scans available");
	sleep_ms(100);
	got = read_full(fd, data, sizeof(data), 500);
	CHECK(got == 5 * (size_t)l.size, "sysfstrig: exactly 5 scans readable (%zu bytes, want %d)",
	      got, 5 * l.size);
	if (got >= 5 * (size_t)l.size)
		CHECK(verify_scans(&l, data, 5, 0, "sysfstrig") == 0,
		      "sysfstrig: the 5 scans equal the pattern for n=0..4");
	n = read(fd, data, sizeof(data));
	CHECK(n < 0 && errno == EAGAIN, "sysfstrig: drained buffer reads EAGAIN (non-blocking)");

	/* in_*_raw returns the most recent scan's value (n = 4) */
	{
		static const struct { const char *attr; long long want; } raws[] = {
			{ "in_voltage0_raw", (0 * 961 + 4 * 17) % 4096 },
			{ "in_voltage1_raw", 961 + 4 * 257 },
			{ "in_voltage2_raw", 1922 + 4 * 257 },
			{ "in_voltage3_raw", 2883 + 4 * 65537 },
			{ "in_voltage4_raw", 3844 + 4 * 257 },
			{ "in_accel_x_raw", 7688 + 4 * 257 },
			{ "in_accel_y_raw", 8649 + 4 * 257 },
			{ "in_accel_z_raw", 9610 + 4 * 257 },
		};
		for (i = 0; i < (int)(sizeof(raws) / sizeof(raws[0])); i++) {
			long long v = rdll("%s/%s", adc.path, raws[i].attr);

			CHECK(v == raws[i].want, "sysfstrig: %s = %lld after scan n=4 (want %lld)",
			      raws[i].attr, v, raws[i].want);
		}
	}
	wrf("0", "%s/buffer0/enable", adc.path);
	set_trigger(&adc, "");
	close(fd);

	/* emu-thermo: its triggered buffer with the same trigger */
	wrf("25000", "%s/emu_temp_mC", th.path);
	wrf("1", "%s/buffer0/in_temp_en", th.path);
	wrf("1", "%s/buffer0/in_timestamp_en", th.path);
	wrf("16", "%s/buffer0/length", th.path);
	CHECK(set_trigger(&th, "sysfstrig77") == 0, "sysfstrig: emu-thermo current_trigger = sysfstrig77");
	fd = open(th.chr, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	CHECK(wrf("1", "%s/buffer0/enable", th.path) == 0, "sysfstrig: emu-thermo buffer0 enable");
	fire(&trig);
	got = read_full(fd, data, 16, 5000);
	if (got == 16) {
		int16_t t;
		int64_t ts;

		memcpy(&t, data, 2);
		memcpy(&ts, data + 8, 8);
		CHECK(t == 240 && ts > 0, "sysfstrig: emu-thermo scan: in_temp %d (want 240), timestamp %" PRId64,
		      t, ts);
	} else {
		CHECK(false, "sysfstrig: emu-thermo scan readable (%zu bytes)", got);
	}
	wrf("0", "%s/buffer0/enable", th.path);
	set_trigger(&th, "");
	close(fd);
	rdf(val, sizeof(val), "%s/trigger/current_trigger", th.path);
	CHECK(val[0] == 0, "sysfstrig: triggers detached");

	sysfstrig_remove(77);
	CHECK(!find_trig("sysfstrig77", &trig), "sysfstrig: remove_trigger 77");
	return n_fail ? 1 : 0;
}

/* ------------------------------------- free-running as fast as possible */

/* The pid of the kernel thread called @comm, or -1. */
static pid_t find_kthread(const char *comm)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	pid_t pid = -1;
	char buf[64];

	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		if (!isdigit_str(de->d_name))
			continue;
		if (rdf(buf, sizeof(buf), "/proc/%s/comm", de->d_name))
			continue;
		if (!strcmp(buf, comm)) {
			pid = atoi(de->d_name);
			break;
		}
	}
	closedir(dir);
	return pid;
}

/* Nanoseconds the task has run (schedstat), or -1. */
static long long task_cpu_ns(pid_t pid)
{
	char buf[128];

	if (pid < 0 || rdf(buf, sizeof(buf), "/proc/%d/schedstat", (int)pid))
		return -1;
	return strtoll(buf, NULL, 10);
}

/* CPU time of this process (user + system). */
static long long self_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long task_ctxsw(pid_t pid)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/*
 * Idle cost of a free-running kernel thread: its CPU share over 1 s. Measured ≈ 2 % on an idle
 * host, but under TCG a vCPU preempted by a loaded host is billed as running, so the share grows
 * with the host's load (25 % seen beside two other VMs). The limit only has to catch a thread
 * that spins instead of sleeping (≈ 100 %).
 */
#define IDLE_CPU_MAX_PCT 50.0
static void check_idle_cpu(const char *comm, const char *what)
{
	pid_t pid = find_kthread(comm);
	long long c0, c1, s0, s1;
	double t0, t1, pct;

	CHECK(pid > 0, "%s: kernel thread %s running", what, comm);
	if (pid <= 0)
		return;
	c0 = task_cpu_ns(pid);
	s0 = task_ctxsw(pid);
	t0 = now_ms();
	sleep_ms(1000);
	c1 = task_cpu_ns(pid);
	s1 = task_ctxsw(pid);
	t1 = now_ms();
	pct = (c1 - c0) / 1e4 / (t1 - t0);
	CHECK(c0 >= 0 && c1 >= 0 && pct < IDLE_CPU_MAX_PCT,
	      "%s: idle for 1 s, %s used %.2f%% of a CPU (%lld wake-ups; limit %.0f%%)",
	      what, comm, pct, s1 - s0, IDLE_CPU_MAX_PCT);
}

static double mib_s(double bytes, double ms)
{
	return ms > 0 ? bytes / (1024.0 * 1024.0) / (ms / 1000.0) : 0;
}

#define FAST_BLK	65536

/*
 * emu-adc, emu_free_running = 2: @nscans scans through buffer0 (read()),
 * @nblocks 64 KiB blocks through buffer1 (DMABUF), a subset layout on
 * buffer1, both buffers at once, and the idle cost of the thread.
 */
static int cmd_fast(int nscans, int nblocks)
{
	struct iiodev adc;
	struct layout l0, l1, ls;
	uint8_t *data = NULL, *map[4] = { NULL };
	int fd = -1, b1 = -1, D[4] = { -1, -1, -1, -1 }, i, ret, bad;
	const int npool = 4;
	const unsigned int masks = (1u << 0) | (1u << 3) | (1u << 4);
	char val[32], p[300];
	double t0, busy, verify_ms;
	size_t got;

	if (!find_dev("emu-adc", &adc)) {
		CHECK(false, "fast: emu-adc present");
		return 1;
	}
	wrf("0", "%s/buffer0/enable", adc.path);
	wrf("0", "%s/buffer1/enable", adc.path);
	set_trigger(&adc, "");
	ret = wrf("3", "%s/emu_free_running", adc.path);
	CHECK(ret == -EINVAL, "fast: emu_free_running 3 -> EINVAL (%s)", strerror(-ret));
	CHECK(wrf("2", "%s/emu_free_running", adc.path) == 0 &&
	      rdf(val, sizeof(val), "%s/emu_free_running", adc.path) == 0 &&
	      !strcmp(val, "2"), "fast: emu_free_running = 2 (reads back '%s')", val);
	wrf("0", "%s/emu_dropped_scans", adc.path);
	snprintf(p, sizeof(p), "%s/emu_dropped_scans", adc.path);

	/* Part 1: buffer0 through read() */
	CHECK(adc_buffer_setup(&adc, 0, ADC_ALL, true, 4096) &&
	      adc_layout(&adc, 0, ADC_ALL, true, &l0) && l0.size == 40 &&
	      wrf("1024", "%s/buffer0/watermark", adc.path) == 0,
	      "fast: buffer0 all channels + timestamp, length 4096, watermark 1024");
	fd = open(adc.chr, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	CHECK(fd >= 0 && wrf("1", "%s/buffer0/enable", adc.path) == 0,
	      "fast: buffer0 enabled without a trigger");
	ret = wrf("0", "%s/emu_free_running", adc.path);
	CHECK(ret == -EBUSY, "fast: emu_free_running cannot change while enabled -> EBUSY (%s)",
	      strerror(-ret));
	data = calloc(nscans, l0.size);
	if (fd < 0 || !data)
		goto out;
	{
		pid_t kt = find_kthread("iio-emu-adc");
		long long c0 = task_cpu_ns(kt), u0 = self_cpu_ns();

		t0 = now_ms();
		got = read_full(fd, data, (size_t)nscans * l0.size, 120000);
		busy = now_ms() - t0;
		CHECK(got == (size_t)nscans * l0.size, "fast: read() %d scans (%zu bytes) in %.0f ms",
		      nscans, got, busy);
		note("buffer0 read(): %.1f MiB/s (%.0f scans/s); CPU: producer thread %.0f%%, reader %.0f%%",
		     mib_s(got, busy), got / l0.size / (busy / 1000.0),
		     (task_cpu_ns(kt) - c0) / 1e4 / busy, (self_cpu_ns() - u0) / 1e4 / busy);
	}
	if (got == (size_t)nscans * l0.size) {
		bad = verify_scans(&l0, data, nscans, 0, "fast buffer0");
		CHECK(bad == 0, "fast: all %d scans equal the pattern n=0..%d, timestamps monotonic (%d bad)",
		      nscans, nscans - 1, bad);
	}
	CHECK(wrf("0", "%s/buffer0/enable", adc.path) == 0, "fast: buffer0 disable");
	CHECK(rdll("%s", p) == 0, "fast: emu_dropped_scans = 0 after read()");
	wrf("1", "%s/buffer0/watermark", adc.path);
	free(data);
	data = NULL;

	/* Part 2: buffer1 alone, 64 KiB DMABUF blocks filled at once */
	CHECK(adc_buffer_setup(&adc, 1, ADC_ALL, true, 64) &&
	      adc_layout(&adc, 1, ADC_ALL, true, &l1) && l1.size == 40,
	      "fast: buffer1 all channels + timestamp");
	/* the chardev (buffer0, still open) hands out buffer1's fd */
	b1 = iio_ioctl_int(fd, EMU_IIO_BUFFER_GET_FD_IOCTL, 1);
	for (i = 0; i < npool; i++) {
		D[i] = heap_alloc(FAST_BLK);
		map[i] = D[i] >= 0 ? mmap(NULL, FAST_BLK, PROT_READ, MAP_SHARED, D[i], 0) : MAP_FAILED;
		if (map[i] == MAP_FAILED)
			map[i] = NULL;
	}
	CHECK(b1 >= 0 && D[0] >= 0 && D[1] >= 0 && D[2] >= 0 && D[3] >= 0 &&
	      map[0] && map[1] && map[2] && map[3], "fast: buffer1 fd and %d DMABUFs of 64 KiB mmapped",
	      npool);
	if (b1 < 0 || !map[0] || !map[1] || !map[2] || !map[3])
		goto out;
	for (i = 0, ret = 0; i < npool; i++)
		ret |= dmabuf_attach(b1, D[i]) | enqueue(b1, D[i], FAST_BLK, 0);
	CHECK(ret == 0, "fast: ATTACH and ENQUEUE %d blocks before enabling", npool);
	{
		const int per = FAST_BLK / 40;
		int64_t last_ts = INT64_MIN;
		bool ts_ok = true;

		bad = 0;
		verify_ms = 0;
		t0 = now_ms();
		CHECK(wrf("1", "%s/buffer1/enable", adc.path) == 0, "fast: buffer1 enabled without a trigger");
		for (i = 0; i < nblocks; i++) {
			int d = D[i % npool];
			uint8_t *m = map[i % npool];
			double v0;

			if (!wait_fd(d, POLLOUT, 20000)) {
				note("block %d did not complete", i);
				bad++;
				break;
			}
			v0 = now_ms();
			dmabuf_sync(d, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
			if (verify_scans(&l1, m, per, (uint64_t)i * per, "fast block"))
				bad++;
			if (scan_ts(&l1, m) < last_ts)
				ts_ok = false;
			last_ts = scan_ts(&l1, m + (per - 1) * 40);
			dmabuf_sync(d, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
			verify_ms += now_ms() - v0;
			if (i + npool < nblocks && enqueue(b1, d, FAST_BLK, 0)) {
				note("re-enqueue of block %d failed", i);
				bad++;
				break;
			}
		}
		busy = now_ms() - t0 - verify_ms;
		CHECK(i == nblocks && bad == 0,
		      "fast: %d blocks x %d scans hold n=0..%d exactly, n continuing across blocks (%d bad)",
		      nblocks, per, nblocks * per - 1, bad);
		CHECK(ts_ok, "fast: timestamps non-decreasing across blocks");
		note("buffer1 DMABUF 64 KiB blocks: %.1f MiB/s (excluding %.0f ms of verification)",
		     mib_s((double)i * per * 40, busy), verify_ms);
	}
	CHECK(wrf("0", "%s/buffer1/enable", adc.path) == 0, "fast: buffer1 disable");
	CHECK(rdll("%s", p) == 0, "fast: emu_dropped_scans = 0 after DMABUF");

	/* Part 3: another layout on buffer1; n restarts at 0 with the enable */
	CHECK(adc_buffer_setup(&adc, 1, masks, true, 64) &&
	      adc_layout(&adc, 1, masks, true, &ls) && ls.size == 24,
	      "fast: buffer1 = voltage0, voltage3, voltage4 + timestamp (24-byte scans)");
	for (i = 0, ret = 0; i < 3; i++)
		ret |= enqueue(b1, D[i], 4096, 0);
	CHECK(ret == 0 && wrf("1", "%s/buffer1/enable", adc.path) == 0,
	      "fast: 3 blocks of 4096 bytes queued, buffer1 enabled");
	for (i = 0, bad = 0; i < 3; i++) {
		if (!wait_fd(D[i], POLLOUT, 20000)) {
			bad++;
			continue;
		}
		dmabuf_sync(D[i], DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
		bad += verify_scans(&ls, map[i], 4096 / 24, (uint64_t)i * (4096 / 24), "fast subset") != 0;
		dmabuf_sync(D[i], DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	}
	CHECK(bad == 0, "fast: the blocks hold n=0..%d in buffer1's 24-byte layout", 3 * (4096 / 24) - 1);
	CHECK(wrf("0", "%s/buffer1/enable", adc.path) == 0, "fast: buffer1 disable");

	/* Part 4: both buffers: every scan goes to both, none dropped */
	{
		const int per = 100, want_blocks = 12;
		size_t cap = (size_t)(want_blocks + npool + 2) * per * 40;
		int done = 0, k;
		bool okb = true;

		data = calloc(1, cap);
		CHECK(adc_buffer_setup(&adc, 0, ADC_ALL, true, 1024) &&
		      adc_buffer_setup(&adc, 1, ADC_ALL, true, 64) && data,
		      "fast: buffer0 and buffer1 all channels + timestamp");
		if (!data)
			goto out;
		/* buffer1 first (idle: no block yet), then buffer0: n starts at 0 for both */
		CHECK(wrf("1", "%s/buffer1/enable", adc.path) == 0 &&
		      wrf("1", "%s/buffer0/enable", adc.path) == 0, "fast: both enabled");
		for (i = 0; i < npool; i++)
			enqueue(b1, D[i], per * 40, 0);
		got = 0;
		t0 = now_ms();
		while ((done < want_blocks || got < (size_t)want_blocks * per * 40) &&
		       now_ms() - t0 < 60000) {
			struct pollfd pf[5];
			ssize_t n;

			for (k = 0; k < npool; k++)
				pf[k] = (struct pollfd){ .fd = D[(done + k) % npool], .events = POLLOUT };
			pf[npool] = (struct pollfd){ .fd = fd, .events = POLLIN };
			poll(pf, npool + 1, 100);
			n = read(fd, data + got, cap - got);
			if (n > 0)
				got += n;
			while (done < want_blocks && wait_fd(D[done % npool], POLLOUT, 0)) {
				int d = D[done % npool];

				dmabuf_sync(d, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
				if (verify_scans(&l1, map[done % npool], per, (uint64_t)done * per, "fast both/b1"))
					okb = false;
				dmabuf_sync(d, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
				done++;
				if (done + npool - 1 < want_blocks)
					enqueue(b1, d, per * 40, 0);
			}
		}
		CHECK(done == want_blocks && okb,
		      "fast: both: %d buffer1 blocks hold n=0..%d (%d complete)", want_blocks,
		      want_blocks * per - 1, done);
		bad = verify_scans(&l0, data, (int)(got / 40), 0, "fast both/b0");
		CHECK(got >= (size_t)want_blocks * per * 40 && got % 40 == 0 && bad == 0,
		      "fast: both: buffer0 read %zu scans, n=0.. without a gap (%d bad)", got / 40, bad);
		CHECK(wrf("0", "%s/buffer0/enable", adc.path) == 0 &&
		      wrf("0", "%s/buffer1/enable", adc.path) == 0, "fast: both disabled");
		CHECK(rdll("%s", p) == 0, "fast: emu_dropped_scans = 0 with both buffers");
	}

	/* Part 5: idle cost: buffer0 full and nobody reading; buffer1 without blocks */
	adc_buffer_setup(&adc, 0, ADC_ALL, true, 64);
	CHECK(wrf("1", "%s/buffer0/enable", adc.path) == 0, "fast: buffer0 enabled, not read");
	{
		char pa[300];

		snprintf(pa, sizeof(pa), "%s/buffer0/data_available", adc.path);
		CHECK(wait_ge(64, 10000, pa) == 64, "fast: buffer0 fills up to its length (64 scans)");
	}
	check_idle_cpu("iio-emu-adc", "fast: buffer0 full");
	CHECK(rdll("%s/buffer0/data_available", adc.path) == 64 && rdll("%s", p) == 0,
	      "fast: still 64 scans available, nothing dropped");
	wrf("0", "%s/buffer0/enable", adc.path);
	CHECK(wrf("1", "%s/buffer1/enable", adc.path) == 0, "fast: buffer1 enabled, no block queued");
	check_idle_cpu("iio-emu-adc", "fast: buffer1 without blocks");
	wrf("0", "%s/buffer1/enable", adc.path);
out:
	for (i = 0; i < npool; i++) {
		if (map[i])
			munmap(map[i], FAST_BLK);
		if (D[i] >= 0)
			close(D[i]);
	}
	if (b1 >= 0)
		close(b1);
	if (fd >= 0)
		close(fd);
	free(data);
	wrf("0", "%s/buffer0/enable", adc.path);
	wrf("0", "%s/buffer1/enable", adc.path);
	CHECK(wrf("0", "%s/emu_free_running", adc.path) == 0, "fast: emu_free_running 0");
	wrf("0", "%s/emu_dropped_scans", adc.path);
	return n_fail ? 1 : 0;
}

/* Deterministic test data for the DAC. */
static void fill_bytes(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static bool crc_is(const struct iiodev *dac, uint32_t want, char *got, size_t len)
{
	rdf(got, len, "%s/emu_consumed_crc32", dac->path);
	return strtoul(got, NULL, 16) == want && strlen(got) == 10;
}

/* emu-dac, emu_free_running = 1: write(), DMABUF streaming, cyclic, idle. */
static int cmd_dacfast(void)
{
	const size_t total = 1 << 20;
	const int nblk = 16, npool = 4;
	struct iiodev dac;
	uint8_t *data = NULL, *map[4] = { NULL };
	int fd = -1, cfd = -1, b1 = -1, D[4] = { -1, -1, -1, -1 }, Q = -1, R = -1, i, ret;
	char pbytes[300], val[32], crcs[32];
	long long bytes, scans, wraps;
	uint32_t crc;
	double t0, ms;
	size_t put;

	if (!find_dev("emu-dac", &dac)) {
		CHECK(false, "dacfast: emu-dac present");
		return 1;
	}
	snprintf(pbytes, sizeof(pbytes), "%s/emu_consumed_bytes", dac.path);
	wrf("0", "%s/buffer0/enable", dac.path);
	wrf("0", "%s/buffer1/enable", dac.path);
	set_trigger(&dac, "");
	CHECK(rdf(val, sizeof(val), "%s/emu_free_running", dac.path) == 0 && !strcmp(val, "0"),
	      "dacfast: emu_free_running defaults to 0 ('%s')", val);
	CHECK(wrf("1", "%s/buffer0/out_voltage0_en", dac.path) == 0 &&
	      wrf("1", "%s/buffer0/out_voltage1_en", dac.path) == 0 &&
	      wrf("4096", "%s/buffer0/length", dac.path) == 0,
	      "dacfast: buffer0 out_voltage0+1, length 4096");
	ret = wrf("1", "%s/buffer0/enable", dac.path);
	CHECK(ret == -EINVAL, "dacfast: enable without a trigger, not free-running -> EINVAL (%s)",
	      strerror(-ret));
	ret = wrf("maybe", "%s/emu_free_running", dac.path);
	CHECK(ret == -EINVAL, "dacfast: emu_free_running garbage -> EINVAL");
	CHECK(wrf("1", "%s/emu_free_running", dac.path) == 0 &&
	      rdll("%s/emu_free_running", dac.path) == 1, "dacfast: emu_free_running = 1");
	CHECK(wrf("1", "%s/emu_reset", dac.path) == 0, "dacfast: emu_reset");

	/* Part 1: 1 MiB through write() */
	CHECK(wrf("1", "%s/buffer0/enable", dac.path) == 0, "dacfast: buffer0 enabled without a trigger");
	ret = wrf("0", "%s/emu_free_running", dac.path);
	CHECK(ret == -EBUSY, "dacfast: emu_free_running cannot change while enabled -> EBUSY (%s)",
	      strerror(-ret));
	data = malloc(total);
	fd = open(dac.chr, O_WRONLY | O_CLOEXEC);	/* blocking */
	if (!data || fd < 0) {
		CHECK(false, "dacfast: open %s", dac.chr);
		goto out;
	}
	fill_bytes(data, total, 1);
	alarm(60);
	t0 = now_ms();
	for (put = 0; put < total;) {
		ssize_t n = write(fd, data + put, total - put);

		if (n <= 0) {
			note("write: %s", n < 0 ? strerror(errno) : "0");
			break;
		}
		put += n;
	}
	bytes = wait_ge(total, 30000, pbytes);
	ms = now_ms() - t0;
	alarm(0);
	CHECK(put == total && bytes == (long long)total,
	      "dacfast: write() of 1 MiB consumed: %lld bytes in %.0f ms", bytes, ms);
	note("buffer0 write(): %.1f MiB/s", mib_s(total, ms));
	crc = crc32_update(0, data, total);
	CHECK(rdll("%s/emu_consumed_scans", dac.path) == (long long)total / 4 &&
	      crc_is(&dac, crc, crcs, sizeof(crcs)) &&
	      rdll("%s/emu_underruns", dac.path) == 0,
	      "dacfast: %zu scans, emu_consumed_crc32 %s (want 0x%08x), no underruns",
	      total / 4, crcs, crc);
	CHECK(rdll("%s/out_voltage0_raw", dac.path) == (int16_t)(data[total - 4] | data[total - 3] << 8) &&
	      rdll("%s/out_voltage1_raw", dac.path) == (int16_t)(data[total - 2] | data[total - 1] << 8),
	      "dacfast: out_voltage0/1_raw = the last scan");
	CHECK(wrf("0", "%s/buffer0/enable", dac.path) == 0, "dacfast: buffer0 disable");
	close(fd);
	fd = -1;

	/* Part 2: 16 DMABUF blocks of 64 KiB, 4 in flight, refilled as they complete */
	wrf("1", "%s/emu_reset", dac.path);
	wrf("1", "%s/buffer1/out_voltage0_en", dac.path);
	wrf("1", "%s/buffer1/out_voltage1_en", dac.path);
	cfd = open(dac.chr, O_RDWR | O_CLOEXEC);
	b1 = cfd >= 0 ? iio_ioctl_int(cfd, EMU_IIO_BUFFER_GET_FD_IOCTL, 1) : -1;
	for (i = 0; i < npool; i++) {
		D[i] = heap_alloc(FAST_BLK);
		map[i] = D[i] >= 0 ? mmap(NULL, FAST_BLK, PROT_READ | PROT_WRITE, MAP_SHARED, D[i], 0)
				   : MAP_FAILED;
		if (map[i] == MAP_FAILED)
			map[i] = NULL;
		else if (dmabuf_attach(b1, D[i]))
			map[i] = NULL;	/* leaks the mapping; fails the check below */
	}
	CHECK(b1 >= 0 && map[0] && map[1] && map[2] && map[3],
	      "dacfast: buffer1 fd, %d DMABUFs of 64 KiB mmapped and attached", npool);
	if (b1 < 0 || !map[0] || !map[1] || !map[2] || !map[3])
		goto out;
	fill_bytes(data, (size_t)nblk * FAST_BLK, 2);
	for (i = 0; i < npool; i++) {
		dmabuf_sync(D[i], DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
		memcpy(map[i], data + (size_t)i * FAST_BLK, FAST_BLK);
		dmabuf_sync(D[i], DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
		enqueue(b1, D[i], FAST_BLK, 0);
	}
	t0 = now_ms();
	CHECK(wrf("1", "%s/buffer1/enable", dac.path) == 0, "dacfast: buffer1 enabled without a trigger");
	for (i = 0; i < nblk; i++) {
		int d = D[i % npool];

		if (!wait_fd(d, POLLOUT, 20000))
			break;
		if (i + npool < nblk) {
			dmabuf_sync(d, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
			memcpy(map[i % npool], data + (size_t)(i + npool) * FAST_BLK, FAST_BLK);
			dmabuf_sync(d, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
			if (enqueue(b1, d, FAST_BLK, 0))
				break;
		}
	}
	ms = now_ms() - t0;
	bytes = rdll("%s", pbytes);
	CHECK(i == nblk && bytes == (long long)nblk * FAST_BLK,
	      "dacfast: %d blocks x 64 KiB consumed: %lld bytes in %.0f ms", nblk, bytes, ms);
	note("buffer1 DMABUF 64 KiB blocks: %.1f MiB/s (including the refill memcpy)",
	     mib_s((double)nblk * FAST_BLK, ms));
	crc = crc32_update(0, data, (size_t)nblk * FAST_BLK);
	CHECK(rdll("%s/emu_consumed_scans", dac.path) == (long long)nblk * FAST_BLK / 4 &&
	      crc_is(&dac, crc, crcs, sizeof(crcs)),
	      "dacfast: %d scans, emu_consumed_crc32 %s (want 0x%08x)", nblk * FAST_BLK / 4, crcs, crc);

	/* Part 3: a cyclic block repeats at most once per ms, then hands over */
	wrf("1", "%s/emu_reset", dac.path);
	Q = heap_alloc(4096);
	R = heap_alloc(4096);
	fill_bytes(data, 320, 3);
	CHECK(Q >= 0 && R >= 0 && dmabuf_write(Q, data, 256) && dmabuf_write(R, data + 256, 64) &&
	      dmabuf_attach(b1, Q) == 0 && dmabuf_attach(b1, R) == 0,
	      "dacfast: cyclic Q (64 scans) and R (16 scans) attached");
	t0 = now_ms();
	CHECK(enqueue(b1, Q, 256, EMU_IIO_DMABUF_CYCLIC) == 0, "dacfast: ENQUEUE Q cyclic");
	sleep_ms(300);
	CHECK(!wait_fd(Q, POLLOUT, 0), "dacfast: cyclic Q stays pending while it repeats");
	CHECK(enqueue(b1, R, 64, 0) == 0, "dacfast: ENQUEUE R behind it");
	CHECK(wait_fd(Q, POLLOUT, 5000) && wait_fd(R, POLLOUT, 5000), "dacfast: Q and R complete");
	ms = now_ms() - t0;
	wraps = rdll("%s/emu_cyclic_wraps", dac.path);
	scans = rdll("%s/emu_consumed_scans", dac.path);
	CHECK(wraps >= 1 && wraps <= ms + 1,
	      "dacfast: Q wrapped %lld times in %.0f ms (at most once per ms)", wraps, ms);
	crc = crc32_update(0, data, 256);
	for (i = 0; i < wraps; i++)
		crc = crc32_update(crc, data, 256);
	crc = crc32_update(crc, data + 256, 64);
	CHECK(scans == 64 * (wraps + 1) + 16 && crc_is(&dac, crc, crcs, sizeof(crcs)),
	      "dacfast: consumed %lld scans = 64 x (%lld wraps + 1) + 16, crc %s (want 0x%08x)",
	      scans, wraps, crcs, crc);

	/* Part 4: idle cost: both buffers enabled, nothing to consume */
	CHECK(wrf("1", "%s/buffer0/enable", dac.path) == 0, "dacfast: buffer0 and buffer1 enabled, idle");
	check_idle_cpu("iio-emu-dac", "dacfast: idle");
	CHECK(wrf("0", "%s/buffer0/enable", dac.path) == 0 &&
	      wrf("0", "%s/buffer1/enable", dac.path) == 0, "dacfast: both disabled");
out:
	alarm(0);
	for (i = 0; i < npool; i++) {
		if (map[i])
			munmap(map[i], FAST_BLK);
		if (D[i] >= 0)
			close(D[i]);
	}
	if (Q >= 0)
		close(Q);
	if (R >= 0)
		close(R);
	if (b1 >= 0)
		close(b1);
	if (cfd >= 0)
		close(cfd);
	if (fd >= 0)
		close(fd);
	free(data);
	wrf("0", "%s/buffer0/enable", dac.path);
	wrf("0", "%s/buffer1/enable", dac.path);
	CHECK(wrf("0", "%s/emu_free_running", dac.path) == 0, "dacfast: emu_free_running 0");
	wrf("1", "%s/emu_reset", dac.path);
	return n_fail ? 1 : 0;
}

/*
 * Throughput of the free-running paths (not a check, numbers only): emu-adc
 * read() and DMABUF capture, emu-dac write() and DMABUF output, each for
 * @secs seconds without looking at the data.
 */
static void bench_line(const char *what, double bytes, double ms, pid_t kt, long long c0,
		       long long u0)
{
	printf("  %-36s %8.1f MiB/s   kthread %3.0f%%  user %3.0f%%\n", what, mib_s(bytes, ms),
	       (task_cpu_ns(kt) - c0) / 1e4 / ms, (self_cpu_ns() - u0) / 1e4 / ms);
	fflush(stdout);
}

static void bench_dmabuf(int bfd, const char *dev_path, const char *comm, size_t blk,
			 int npool, int secs, bool out, const char *what)
{
	int D[8], i, ok = 1;
	long long c0, u0, count = 0;
	double t0, end;
	pid_t kt;

	for (i = 0; i < npool; i++) {
		D[i] = heap_alloc(blk);
		ok &= D[i] >= 0 && dmabuf_attach(bfd, D[i]) == 0 && enqueue(bfd, D[i], blk, 0) == 0;
	}
	if (!ok || wrf("1", "%s/buffer1/enable", dev_path)) {
		printf("  %-36s setup failed\n", what);
		goto out;
	}
	kt = find_kthread(comm);
	c0 = task_cpu_ns(kt);
	u0 = self_cpu_ns();
	t0 = now_ms();
	end = t0 + secs * 1000.0;
	for (i = 0; now_ms() < end; i = (i + 1) % npool) {
		if (!wait_fd(D[i], POLLOUT, 5000))
			break;
		/* what a consumer must do per block, minus looking at the data */
		dmabuf_sync(D[i], DMA_BUF_SYNC_START | (out ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ));
		dmabuf_sync(D[i], DMA_BUF_SYNC_END | (out ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ));
		if (enqueue(bfd, D[i], blk, 0))
			break;
		count++;
	}
	bench_line(what, (double)count * blk, now_ms() - t0, kt, c0, u0);
	wrf("0", "%s/buffer1/enable", dev_path);
out:
	for (i = 0; i < npool; i++) {
		if (D[i] >= 0) {
			dmabuf_detach(bfd, D[i]);
			close(D[i]);
		}
	}
}

static int cmd_bench(int secs)
{
	static const size_t blks[] = { 4096, 16384, 65536, 262144, 1048576 };
	struct iiodev adc, dac;
	size_t chunk, got;
	uint8_t *buf = malloc(1 << 20);
	char what[64];
	long long c0, u0;
	double t0, end;
	int fd, b1, i;
	pid_t kt;

	if (!buf || !find_dev("emu-adc", &adc) || !find_dev("emu-dac", &dac))
		return 1;
	printf("free-running throughput, %d s per line (emu-adc: 40-byte scans)\n", secs);

	/* emu-adc buffer0: read() of various sizes */
	set_trigger(&adc, "");
	wrf("0", "%s/buffer1/enable", adc.path);
	wrf("2", "%s/emu_free_running", adc.path);
	for (chunk = 4096; chunk <= 262144; chunk *= 4) {
		adc_buffer_setup(&adc, 0, ADC_ALL, true, 16384);
		wrf("0", "%s/buffer1/enable", adc.path);
		snprintf(what, sizeof(what), "%zu", chunk / 40);
		wrf(what, "%s/buffer0/watermark", adc.path);
		fd = open(adc.chr, O_RDONLY | O_CLOEXEC);	/* blocking read() */
		if (fd < 0 || wrf("1", "%s/buffer0/enable", adc.path))
			break;
		kt = find_kthread("iio-emu-adc");
		c0 = task_cpu_ns(kt);
		u0 = self_cpu_ns();
		t0 = now_ms();
		end = t0 + secs * 1000.0;
		for (got = 0; now_ms() < end;) {
			ssize_t n = read(fd, buf, chunk / 40 * 40);

			if (n <= 0)
				break;
			got += n;
		}
		snprintf(what, sizeof(what), "adc read() %zu KiB, watermark = chunk", chunk / 1024);
		bench_line(what, got, now_ms() - t0, kt, c0, u0);
		wrf("0", "%s/buffer0/enable", adc.path);
		wrf("1", "%s/buffer0/watermark", adc.path);
		close(fd);
	}

	/* emu-adc buffer1: DMABUF blocks */
	adc_buffer_setup(&adc, 1, ADC_ALL, true, 64);
	fd = open(adc.chr, O_RDWR | O_CLOEXEC);
	b1 = fd >= 0 ? iio_ioctl_int(fd, EMU_IIO_BUFFER_GET_FD_IOCTL, 1) : -1;
	for (i = 0; b1 >= 0 && i < (int)(sizeof(blks) / sizeof(blks[0])); i++) {
		snprintf(what, sizeof(what), "adc DMABUF %zu KiB x 4", blks[i] / 1024);
		bench_dmabuf(b1, adc.path, "iio-emu-adc", blks[i], 4, secs, false, what);
	}
	if (b1 >= 0)
		close(b1);
	if (fd >= 0)
		close(fd);
	wrf("0", "%s/emu_free_running", adc.path);

	/* emu-dac buffer0: write() */
	set_trigger(&dac, "");
	wrf("0", "%s/buffer0/enable", dac.path);
	wrf("0", "%s/buffer1/enable", dac.path);
	wrf("1", "%s/emu_free_running", dac.path);
	wrf("1", "%s/buffer0/out_voltage0_en", dac.path);
	wrf("1", "%s/buffer0/out_voltage1_en", dac.path);
	wrf("1", "%s/buffer1/out_voltage0_en", dac.path);
	wrf("1", "%s/buffer1/out_voltage1_en", dac.path);
	wrf("65536", "%s/buffer0/length", dac.path);
	memset(buf, 0x5a, 1 << 20);
	fd = open(dac.chr, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && wrf("1", "%s/buffer0/enable", dac.path) == 0) {
		kt = find_kthread("iio-emu-dac");
		c0 = task_cpu_ns(kt);
		u0 = self_cpu_ns();
		t0 = now_ms();
		end = t0 + secs * 1000.0;
		for (got = 0; now_ms() < end;) {
			ssize_t n = write(fd, buf, 65536);

			if (n <= 0)
				break;
			got += n;
		}
		bench_line("dac write() 64 KiB (length 65536)", got, now_ms() - t0, kt, c0, u0);
		wrf("0", "%s/buffer0/enable", dac.path);
	}
	if (fd >= 0)
		close(fd);
	fd = open(dac.chr, O_RDWR | O_CLOEXEC);
	b1 = fd >= 0 ? iio_ioctl_int(fd, EMU_IIO_BUFFER_GET_FD_IOCTL, 1) : -1;
	for (i = 0; b1 >= 0 && i < (int)(sizeof(blks) / sizeof(blks[0])); i++) {
		snprintf(what, sizeof(what), "dac DMABUF %zu KiB x 4", blks[i] / 1024);
		bench_dmabuf(b1, dac.path, "iio-emu-dac", blks[i], 4, secs, true, what);
	}
	if (b1 >= 0)
		close(b1);
	if (fd >= 0)
		close(fd);
	wrf("0", "%s/emu_free_running", dac.path);
	wrf("1", "%s/emu_reset", dac.path);
	free(buf);
	return 0;
}

/* ------------------------------------------------------------ (e) events */

static bool read_event(int efd, int timeout_ms, struct emu_iio_event_data *ev)
{
	if (!wait_fd(efd, POLLIN, timeout_ms))
		return false;
	return read(efd, ev, sizeof(*ev)) == sizeof(*ev);
}

static void check_event(const struct emu_iio_event_data *ev, int dir,
			const char *what)
{
	unsigned int type = (ev->id >> 56) & 0xff;
	unsigned int diff = (ev->id >> 55) & 1;
	unsigned int evdir = (ev->id >> 48) & 0x7f;
	unsigned int mod = (ev->id >> 40) & 0xff;
	unsigned int chan_type = (ev->id >> 32) & 0xff;
	int16_t chan = (int16_t)(ev->id & 0xffff);

	CHECK(type == 0 && diff == 0 && evdir == (unsigned int)dir && mod == 0 &&
	      chan_type == IIO_TEMP_TYPE && chan == 0 && ev->timestamp > 0,
	      "events: %s: id 0x%016" PRIx64 " = type %u (THRESH 0) dir %u (want %d) chan_type %u (IIO_TEMP %d) channel %d, ts %" PRId64,
	      what, ev->id, type, evdir, dir, chan_type, IIO_TEMP_TYPE, chan, ev->timestamp);
}

static int cmd_events(void)
{
	struct iiodev th;
	struct emu_iio_event_data ev;
	int fd, efd, ret;
	char p[300];

	if (!find_dev("emu-thermo", &th)) {
		CHECK(false, "events: emu-thermo present");
		return 1;
	}
	wrf("25000", "%s/emu_temp_mC", th.path);
	wrf("560", "%s/events/in_temp_thresh_rising_value", th.path);
	wrf("400", "%s/events/in_temp_thresh_falling_value", th.path);
	wrf("16", "%s/events/in_temp_thresh_rising_hysteresis", th.path);
	wrf("16", "%s/events/in_temp_thresh_falling_hysteresis", th.path);

	fd = open(th.chr, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0, "events: open %s", th.chr);
	if (fd < 0)
		return 1;
	efd = iio_ioctl_int(fd, EMU_IIO_GET_EVENT_FD_IOCTL, 0);
	CHECK(efd >= 0, "events: IIO_GET_EVENT_FD_IOCTL");
	ret = iio_ioctl_int(fd, EMU_IIO_GET_EVENT_FD_IOCTL, 0);
	CHECK(ret == -EBUSY, "events: second IIO_GET_EVENT_FD_IOCTL -> EBUSY (%s)",
	      ret < 0 ? strerror(-ret) : "succeeded");
	if (ret >= 0)
		close(ret);
	if (efd < 0) {
		close(fd);
		return 1;
	}
	fcntl(efd, F_SETFL, O_NONBLOCK);

	CHECK(wrf("1", "%s/events/in_temp_thresh_rising_en", th.path) == 0 &&
	      wrf("1", "%s/events/in_temp_thresh_falling_en", th.path) == 0,
	      "events: enable rising and falling");

	/* heat past 45 °C: one RISING */
	wrf("50000", "%s/emu_temp_mC", th.path);
	if (read_event(efd, 5000, &ev))
		check_event(&ev, 1, "heat to 50 C -> RISING");
	else
		CHECK(false, "events: heat to 50 C -> an event");
	wrf("50500", "%s/emu_temp_mC", th.path);
	CHECK(!read_event(efd, 300, &ev), "events: no second RISING while above");

	/* 44 °C = raw 544 = value - hysteresis: not re-armed; back up: nothing */
	wrf("44000", "%s/emu_temp_mC", th.path);
	wrf("50000", "%s/emu_temp_mC", th.path);
	CHECK(!read_event(efd, 300, &ev), "events: hysteresis: 50->44->50 C fires nothing");
	/* 43 °C = raw 528 < 544: re-armed */
	wrf("43000", "%s/emu_temp_mC", th.path);
	wrf("46000", "%s/emu_temp_mC", th.path);
	if (read_event(efd, 5000, &ev))
		check_event(&ev, 1, "43->46 C after re-arm -> RISING");
	else
		CHECK(false, "events: 43->46 C after re-arm -> an event");

	/* cool below 35 °C: FALLING */
	wrf("20000", "%s/emu_temp_mC", th.path);
	if (read_event(efd, 5000, &ev))
		check_event(&ev, 2, "cool to 20 C -> FALLING");
	else
		CHECK(false, "events: cool to 20 C -> an event");
	CHECK(!read_event(efd, 300, &ev), "events: nothing else queued");

	/* disabled events stay silent */
	wrf("0", "%s/events/in_temp_thresh_rising_en", th.path);
	wrf("0", "%s/events/in_temp_thresh_falling_en", th.path);
	wrf("50000", "%s/emu_temp_mC", th.path);
	wrf("20000", "%s/emu_temp_mC", th.path);
	CHECK(!read_event(efd, 300, &ev), "events: disabled events are not pushed");

	/* heat cycle: triangle 20->50->20 C over 2 s produces both events */
	wrf("25000", "%s/emu_temp_mC", th.path);
	wrf("1", "%s/events/in_temp_thresh_rising_en", th.path);
	wrf("1", "%s/events/in_temp_thresh_falling_en", th.path);
	CHECK(wrf("2000", "%s/emu_heat_cycle_ms", th.path) == 0, "events: emu_heat_cycle_ms = 2000");
	{
		bool rise = false, fall = false;
		double end = now_ms() + 15000;

		while ((!rise || !fall) && now_ms() < end) {
			if (!read_event(efd, 500, &ev))
				continue;
			if (((ev.id >> 48) & 0x7f) == 1)
				rise = true;
			if (((ev.id >> 48) & 0x7f) == 2 && rise)
				fall = true;
		}
		CHECK(rise && fall, "events: heat cycle crosses both thresholds (rising %d, falling %d)",
		      rise, fall);
	}
	CHECK(wrf("0", "%s/emu_heat_cycle_ms", th.path) == 0, "events: emu_heat_cycle_ms = 0 stops it");
	wrf("0", "%s/events/in_temp_thresh_rising_en", th.path);
	wrf("0", "%s/events/in_temp_thresh_falling_en", th.path);
	wrf("25000", "%s/emu_temp_mC", th.path);
	snprintf(p, sizeof(p), "%s/emu_temp_mC", th.path);
	CHECK(rdll("%s", p) == 25000, "events: temperature restored to 25000");

	close(efd);
	close(fd);
	return n_fail ? 1 : 0;
}

/* ------------------------------------------------------------ (f) DMABUF */

static int cmd_dmabuf(void)
{
	struct iiodev adc, strig, htrig;
	struct layout l0, l1;
	int cfd = -1, b0 = -1, b1 = -1, A = -1, B = -1, sfd, ret, i;
	/*
	 * buffer0 gets a subset, demuxed by the core.  It includes the highest
	 * active channel (accel_z): the 6.12 core's demux takes the timestamp
	 * from the wrong offset when a buffer omits active channels that come
	 * after its last channel (see README.md).
	 */
	const unsigned int mask0 = (1u << 0) | (1u << 3) | (1u << 4) | (1u << 7);
	uint8_t buf0[40 * 20], blk[4096], blk2[4096];
	char p[300];
	uint64_t n0;

	if (!find_dev("emu-adc", &adc)) {
		CHECK(false, "dmabuf: emu-adc present");
		return 1;
	}
	if (!sysfstrig_create(78, &strig)) {
		CHECK(false, "dmabuf: sysfs trigger");
		return 1;
	}
	wrf("0", "%s/emu_dropped_scans", adc.path);

	/* buffer0: voltage0, voltage3, voltage4 + ts; buffer1: everything */
	CHECK(adc_buffer_setup(&adc, 0, mask0, true, 256) &&
	      adc_layout(&adc, 0, mask0, true, &l0) && l0.size == 32,
	      "dmabuf: buffer0 = voltage0,3,4, accel_z + timestamp (32-byte scans)");
	CHECK(adc_buffer_setup(&adc, 1, ADC_ALL, true, 64) &&
	      adc_layout(&adc, 1, ADC_ALL, true, &l1) && l1.size == 40,
	      "dmabuf: buffer1 = all channels + timestamp (40-byte scans)");
	set_trigger(&adc, "sysfstrig78");

	cfd = open(adc.chr, O_RDWR | O_CLOEXEC);
	CHECK(cfd >= 0, "dmabuf: open %s", adc.chr);
	if (cfd < 0)
		goto out;
	b0 = iio_ioctl_int(cfd, EMU_IIO_BUFFER_GET_FD_IOCTL, 0);
	CHECK(b0 >= 0, "dmabuf: IIO_BUFFER_GET_FD_IOCTL(0)");
	b1 = iio_ioctl_int(cfd, EMU_IIO_BUFFER_GET_FD_IOCTL, 1);
	CHECK(b1 >= 0, "dmabuf: IIO_BUFFER_GET_FD_IOCTL(1) while buffer0 is open");
	ret = iio_ioctl_int(cfd, EMU_IIO_BUFFER_GET_FD_IOCTL, 1);
	CHECK(ret == -EBUSY, "dmabuf: GET_FD(1) again -> EBUSY");
	ret = iio_ioctl_int(cfd, EMU_IIO_BUFFER_GET_FD_IOCTL, 2);
	CHECK(ret == -ENODEV, "dmabuf: GET_FD(2) -> ENODEV");
	if (b0 < 0 || b1 < 0)
		goto out;
	fcntl(b0, F_SETFL, O_NONBLOCK);

	A = heap_alloc(4096);
	B = heap_alloc(4096);
	CHECK(A >= 0 && B >= 0, "dmabuf: two 4 KiB DMABUFs from /dev/dma_heap/system");
	if (A < 0 || B < 0)
		goto out;
	ret = dmabuf_attach(b0, A);
	CHECK(ret == -EPERM, "dmabuf: ATTACH on buffer0 (kfifo) -> EPERM (%s)",
	      ret < 0 ? strerror(-ret) : "ok");
	CHECK(dmabuf_attach(b1, A) == 0 &&
	      dmabuf_attach(b1, B) == 0,
	      "dmabuf: ATTACH both on buffer1");
	ret = dmabuf_attach(b1, A);
	CHECK(ret == -EBUSY, "dmabuf: ATTACH the same DMABUF twice -> EBUSY");
	ret = enqueue(b1, A, 400, EMU_IIO_DMABUF_CYCLIC);
	CHECK(ret == -EINVAL, "dmabuf: ENQUEUE cyclic on an input buffer -> EINVAL");
	ret = enqueue(b1, A, 0, 0);
	CHECK(ret == -EINVAL, "dmabuf: ENQUEUE bytes_used 0 -> EINVAL");
	ret = enqueue(b1, A, 8192, 0);
	CHECK(ret == -EINVAL, "dmabuf: ENQUEUE bytes_used > size -> EINVAL");

	/* Part 1: both buffers, sysfs trigger, 20 scans: demux into two layouts */
	CHECK(enqueue(b1, A, 10 * 40, 0) == 0 && enqueue(b1, B, 10 * 40, 0) == 0,
	      "dmabuf: ENQUEUE two blocks of 10 scans before enabling");
	ret = enqueue(b1, A, 400, 0);
	CHECK(ret == -EBUSY, "dmabuf: ENQUEUE a block that is still queued -> EBUSY");
	CHECK(wrf("1", "%s/buffer0/enable", adc.path) == 0 &&
	      wrf("1", "%s/buffer1/enable", adc.path) == 0, "dmabuf: enable buffer0 and buffer1");
	snprintf(p, sizeof(p), "%s/buffer0/data_available", adc.path);
	for (i = 0; i < 20; i++) {
		fire(&strig);
		if (wait_ge(i + 1, 5000, p) < i + 1)
			break;
	}
	CHECK(i == 20, "dmabuf: 20 scans triggered");
	CHECK(read_full(b0, buf0, 20 * 32, 2000) == 20 * 32 &&
	      verify_scans(&l0, buf0, 20, 0, "buffer0") == 0,
	      "dmabuf: buffer0 (read via its buffer fd) holds n=0..19 in its own layout");
	CHECK(wait_fd(A, POLLOUT, 5000) && wait_fd(B, POLLOUT, 5000),
	      "dmabuf: both blocks complete (POLLOUT on the DMABUF fds)");
	CHECK(dmabuf_read(A, blk, 400) && verify_scans(&l1, blk, 10, 0, "block A") == 0,
	      "dmabuf: block A holds n=0..9 (SYNC START/END, mmap)");
	CHECK(dmabuf_read(B, blk2, 400) && verify_scans(&l1, blk2, 10, 10, "block B") == 0,
	      "dmabuf: block B holds n=10..19");
	{
		int64_t a0 = scan_ts(&l1, blk), b0ts = scan_ts(&l0, buf0);
		int64_t a19 = scan_ts(&l1, blk2 + 9 * 40), b19 = scan_ts(&l0, buf0 + 19 * 32);

		CHECK(a0 == b0ts && a19 == b19,
		      "dmabuf: both buffers carry the same timestamps (n=0: %" PRId64 " / %" PRId64
		      ", n=19: %" PRId64 " / %" PRId64 ")", a0, b0ts, a19, b19);
	}
	fire(&strig);
	wait_ge(1, 5000, p);
	snprintf(p, sizeof(p), "%s/emu_dropped_scans", adc.path);
	CHECK(wait_ge(1, 2000, p) == 1, "dmabuf: a scan with no block queued is counted in emu_dropped_scans");
	CHECK(wrf("0", "%s/buffer1/enable", adc.path) == 0 &&
	      wrf("0", "%s/buffer0/enable", adc.path) == 0, "dmabuf: disable both");

	/* Part 2: queued block cancelled by disable */
	CHECK(enqueue(b1, A, 400, 0) == 0, "dmabuf: ENQUEUE block A again");
	sfd = export_sync(A);
	CHECK(sfd >= 0 && sync_status(sfd) == 0, "dmabuf: its fence is pending (sync_file status 0)");
	wrf("1", "%s/buffer1/enable", adc.path);
	wrf("0", "%s/buffer1/enable", adc.path);
	CHECK(wait_fd(A, POLLOUT, 5000), "dmabuf: disable completes the queued block");
	ret = sfd >= 0 ? sync_status(sfd) : -1000;
	CHECK(ret == -ECANCELED, "dmabuf: ... with fence error ECANCELED (status %d)", ret);
	if (sfd >= 0)
		close(sfd);

	/* Part 3: streaming with an hrtimer trigger, 100-scan blocks */
	set_trigger(&adc, "");
	CHECK(hrtimer_create("emudma", 2000, &htrig), "dmabuf: hrtimer trigger emudma 2000 Hz");
	set_trigger(&adc, "emudma");
	wrf("0", "%s/emu_dropped_scans", adc.path);
	CHECK(enqueue(b1, A, 4000, 0) == 0 && enqueue(b1, B, 4000, 0) == 0,
	      "dmabuf: ENQUEUE A, B (100 scans each)");
	CHECK(wrf("1", "%s/buffer1/enable", adc.path) == 0, "dmabuf: enable buffer1 alone");
	CHECK(wait_fd(A, POLLOUT, 30000), "dmabuf: block A complete");
	CHECK(enqueue(b1, A, 4000, 0) == 0, "dmabuf: re-ENQUEUE A");
	CHECK(wait_fd(B, POLLOUT, 30000) && dmabuf_read(B, blk2, 4000) &&
	      verify_scans(&l1, blk2, 100, 100, "block B") == 0,
	      "dmabuf: block B holds n=100..199");
	CHECK(wait_fd(A, POLLOUT, 30000) && dmabuf_read(A, blk, 4000),
	      "dmabuf: re-queued block A complete");
	n0 = 0;
	ret = scan_n_from_v1(&l1, blk, &n0);
	CHECK(ret && n0 >= 200 && verify_scans(&l1, blk, 100, n0, "block A'") == 0,
	      "dmabuf: re-queued A holds a contiguous run n=%" PRIu64 "..%" PRIu64,
	      n0, n0 + 99);
	CHECK(wrf("0", "%s/buffer1/enable", adc.path) == 0, "dmabuf: disable buffer1");
	note("emu_dropped_scans = %lld (scans with no block queued)",
	     rdll("%s/emu_dropped_scans", adc.path));

	CHECK(dmabuf_detach(b1, A) == 0 &&
	      dmabuf_detach(b1, B) == 0,
	      "dmabuf: DETACH both");
	ret = dmabuf_detach(b1, A);
	CHECK(ret == -EPERM, "dmabuf: DETACH again -> EPERM");
out:
	set_trigger(&adc, "");
	hrtimer_remove("emudma");
	sysfstrig_remove(78);
	if (A >= 0)
		close(A);
	if (B >= 0)
		close(B);
	if (b0 >= 0)
		close(b0);
	if (b1 >= 0)
		close(b1);
	if (cfd >= 0)
		close(cfd);
	return n_fail ? 1 : 0;
}

/* ---------------------------------------------------------------- (g) DAC */

static int cmd_dac(void)
{
	struct iiodev dac, strig, htrig;
	uint8_t data[64], all[4096];
	int fd = -1, cfd = -1, b1 = -1, P = -1, Q = -1, R = -1, sfd, i, ret;
	char pscans[300], punder[300], pwraps[300], crcs[32];
	uint32_t crc;
	long long wraps, scans, bytes;

	if (!find_dev("emu-dac", &dac)) {
		CHECK(false, "dac: emu-dac present");
		return 1;
	}
	snprintf(pscans, sizeof(pscans), "%s/emu_consumed_scans", dac.path);
	snprintf(punder, sizeof(punder), "%s/emu_underruns", dac.path);
	snprintf(pwraps, sizeof(pwraps), "%s/emu_cyclic_wraps", dac.path);

	/* Part 1: write() through buffer0, consumed by a sysfs trigger */
	CHECK(sysfstrig_create(79, &strig), "dac: sysfs trigger sysfstrig79");
	CHECK(wrf("1", "%s/emu_reset", dac.path) == 0, "dac: emu_reset");
	wrf("0", "%s/buffer0/enable", dac.path);
	CHECK(wrf("1", "%s/buffer0/out_voltage0_en", dac.path) == 0 &&
	      wrf("1", "%s/buffer0/out_voltage1_en", dac.path) == 0 &&
	      wrf("64", "%s/buffer0/length", dac.path) == 0,
	      "dac: buffer0 out_voltage0+1, length 64");
	CHECK(set_trigger(&dac, "sysfstrig79") == 0, "dac: current_trigger = sysfstrig79");
	CHECK(wrf("1", "%s/buffer0/enable", dac.path) == 0, "dac: buffer0 enable");
	for (i = 0; i < 64; i++)
		data[i] = (uint8_t)(i * 37 + 11);
	fd = open(dac.chr, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	ret = fd >= 0 ? (int)write(fd, data, sizeof(data)) : -1;
	CHECK(ret == 64, "dac: write() 64 bytes (16 scans) -> %d", ret);
	for (i = 0; i < 16; i++) {
		fire(&strig);
		if (wait_ge(i + 1, 5000, pscans) < i + 1)
			break;
	}
	CHECK(i == 16, "dac: 16 triggers consumed 16 scans");
	rdf(crcs, sizeof(crcs), "%s/emu_consumed_crc32", dac.path);
	crc = crc32_update(0, data, 64);
	CHECK(rdll("%s/emu_consumed_bytes", dac.path) == 64, "dac: emu_consumed_bytes = 64");
	CHECK(strtoul(crcs, NULL, 16) == crc && strlen(crcs) == 10,
	      "dac: emu_consumed_crc32 = %s (want 0x%08x)", crcs, crc);
	CHECK(rdll("%s/out_voltage0_raw", dac.path) == (int16_t)(data[60] | data[61] << 8) &&
	      rdll("%s/out_voltage1_raw", dac.path) == (int16_t)(data[62] | data[63] << 8),
	      "dac: out_voltage0/1_raw = the last scan output");
	CHECK(rdll("%s", punder) == 0, "dac: no underruns so far");
	fire(&strig);
	CHECK(wait_ge(1, 5000, punder) == 1 && rdll("%s", pscans) == 16,
	      "dac: a trigger with the buffer empty counts one underrun");
	wrf("0", "%s/buffer0/enable", dac.path);
	set_trigger(&dac, "");
	close(fd);
	fd = -1;
	sysfstrig_remove(79);

	/* Part 2: DMABUF: a 16-scan block, then a cyclic 32-scan block, then 8 scans */
	CHECK(wrf("1", "%s/emu_reset", dac.path) == 0 && rdll("%s", pscans) == 0 &&
	      rdll("%s", pwraps) == 0, "dac: emu_reset zeroes the counters");
	wrf("1", "%s/buffer1/out_voltage0_en", dac.path);
	wrf("1", "%s/buffer1/out_voltage1_en", dac.path);
	cfd = open(dac.chr, O_RDWR | O_CLOEXEC);
	b1 = cfd >= 0 ? iio_ioctl_int(cfd, EMU_IIO_BUFFER_GET_FD_IOCTL, 1) : -1;
	CHECK(b1 >= 0, "dac: GET_FD(1)");
	P = heap_alloc(4096);
	Q = heap_alloc(4096);
	R = heap_alloc(4096);
	if (b1 < 0 || P < 0 || Q < 0 || R < 0)
		goto out;
	for (i = 0; i < 4096; i++)
		all[i] = (uint8_t)(i * 13 + 7 + i / 251);
	CHECK(dmabuf_write(P, all, 64) && dmabuf_write(Q, all + 64, 128) &&
	      dmabuf_write(R, all + 192, 32), "dac: fill three DMABUFs (SYNC START/END write)");
	CHECK(dmabuf_attach(b1, P) == 0 &&
	      dmabuf_attach(b1, Q) == 0 &&
	      dmabuf_attach(b1, R) == 0, "dac: ATTACH them");
	ret = enqueue(b1, P, 64, 0);
	i = enqueue(b1, Q, 128, EMU_IIO_DMABUF_CYCLIC);
	CHECK(ret == 0 && i == 0, "dac: ENQUEUE P (16 scans), then Q cyclic (32 scans) (%s, %s)",
	      strerror(-ret), strerror(-i));
	CHECK(hrtimer_create("emudac", 2000, &htrig), "dac: hrtimer trigger emudac 2000 Hz");
	set_trigger(&dac, "emudac");
	CHECK(wrf("1", "%s/buffer1/enable", dac.path) == 0, "dac: buffer1 enable");
	CHECK(wait_fd(P, POLLOUT, 20000), "dac: P complete");
	wraps = wait_ge(2, 30000, pwraps);
	CHECK(wraps >= 2, "dac: cyclic Q wrapped %lld times (>= 2)", wraps);
	CHECK(!wait_fd(Q, POLLOUT, 0), "dac: cyclic Q stays pending while it repeats");
	CHECK(enqueue(b1, R, 32, 0) == 0, "dac: ENQUEUE R (8 scans) behind the cyclic block");
	CHECK(wait_fd(Q, POLLOUT, 20000), "dac: Q completes at the end of its pass");
	CHECK(wait_fd(R, POLLOUT, 20000), "dac: R complete");
	CHECK(wait_ge(1, 5000, punder) >= 1, "dac: underruns counted once nothing is queued");
	CHECK(wrf("0", "%s/buffer1/enable", dac.path) == 0, "dac: buffer1 disable");

	wraps = rdll("%s", pwraps);
	scans = rdll("%s", pscans);
	bytes = rdll("%s/emu_consumed_bytes", dac.path);
	CHECK(scans == 16 + 32 * (wraps + 1) + 8 && bytes == 4 * scans,
	      "dac: consumed %lld scans / %lld bytes = 16 + 32 x (%lld wraps + 1) + 8",
	      scans, bytes, wraps);
	crc = crc32_update(0, all, 64);
	for (i = 0; i <= wraps; i++)
		crc = crc32_update(crc, all + 64, 128);
	crc = crc32_update(crc, all + 192, 32);
	rdf(crcs, sizeof(crcs), "%s/emu_consumed_crc32", dac.path);
	CHECK(strtoul(crcs, NULL, 16) == crc,
	      "dac: emu_consumed_crc32 %s = CRC of P + Q x %lld + R (0x%08x)", crcs, wraps + 1, crc);

	/* Part 3: a cyclic block is cancelled by disable */
	CHECK(enqueue(b1, Q, 128, EMU_IIO_DMABUF_CYCLIC) == 0, "dac: ENQUEUE Q cyclic again");
	sfd = export_sync(Q);
	wrf("1", "%s/emu_reset", dac.path);
	wrf("1", "%s/buffer1/enable", dac.path);
	CHECK(wait_ge(1, 20000, pwraps) >= 1, "dac: Q repeats");
	wrf("0", "%s/buffer1/enable", dac.path);
	ret = sfd >= 0 ? sync_status(sfd) : -1000;
	CHECK(ret == -ECANCELED, "dac: disable cancels the cyclic block (fence status %d)", ret);
	if (sfd >= 0)
		close(sfd);
out:
	set_trigger(&dac, "");
	hrtimer_remove("emudac");
	if (fd >= 0)
		close(fd);
	if (P >= 0)
		close(P);
	if (Q >= 0)
		close(Q);
	if (R >= 0)
		close(R);
	if (b1 >= 0)
		close(b1);
	if (cfd >= 0)
		close(cfd);
	return n_fail ? 1 : 0;
}

/* ---------------------------------------------------------- (h) unbind */

static bool any_emu_device(void)
{
	struct iiodev d;

	return find_dev("emu-thermo", &d) || find_dev("emu-adc", &d) ||
	       find_dev("emu-dac", &d) || find_dev("emu-mux", &d);
}

static bool wait_devices(bool present, int timeout_ms)
{
	double end = now_ms() + timeout_ms;
	struct iiodev d;

	for (;;) {
		bool all = find_dev("emu-thermo", &d) && find_dev("emu-adc", &d) &&
			   find_dev("emu-dac", &d) && find_dev("emu-mux", &d);

		if (present ? all : !any_emu_device())
			return true;
		if (now_ms() > end)
			return false;
		sleep_ms(10);
	}
}

static int cmd_unbind(void)
{
	struct iiodev adc, th, trig, dac;
	struct emu_iio_event_data ev;
	int cfd = -1, tfd = -1, efd = -1, b1 = -1, A = -1, sfd = -1, ret;
	int dfd = -1, db1 = -1, Q = -1, qsfd = -1;
	bool ok = false, dmabuf = kernel_has_dmabuf();
	uint8_t tmp[400];
	ssize_t n;

	if (!find_dev("emu-adc", &adc) || !find_dev("emu-thermo", &th)) {
		CHECK(false, "unbind: devices present");
		return 1;
	}
	CHECK(hrtimer_create("emuunbind", 1000, &trig), "unbind: hrtimer trigger");
	adc_buffer_setup(&adc, 0, ADC_ALL, true, 1024);
	set_trigger(&adc, "emuunbind");
	cfd = open(adc.chr, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	b1 = cfd >= 0 ? iio_ioctl_int(cfd, EMU_IIO_BUFFER_GET_FD_IOCTL, 1) : -1;
	A = dmabuf ? heap_alloc(4096) : -1;
	if (dmabuf)
		CHECK(cfd >= 0 && b1 >= 0 && A >= 0 &&
		      dmabuf_attach(b1, A) == 0 &&
		      enqueue(b1, A, 4000, 0) == 0,
		      "unbind: emu-adc open, buffer1 fd with a queued DMABUF block");
	else
		CHECK(cfd >= 0 && b1 >= 0, "unbind: emu-adc open, buffer1 fd held (no DMABUF)");
	sfd = A >= 0 ? export_sync(A) : -1;
	CHECK(wrf("1", "%s/buffer0/enable", adc.path) == 0 &&
	      read_full(cfd, tmp, sizeof(tmp), 10000) == sizeof(tmp),
	      "unbind: buffer0 streaming (read 10 scans)");
	tfd = open(th.chr, O_RDONLY | O_CLOEXEC);
	efd = tfd >= 0 ? iio_ioctl_int(tfd, EMU_IIO_GET_EVENT_FD_IOCTL, 0) : -1;
	CHECK(efd >= 0, "unbind: emu-thermo event fd open");

	/* emu-dac repeating a cyclic DMABUF block */
	if (dmabuf && find_dev("emu-dac", &dac)) {
		char pw[300];

		wrf("1", "%s/emu_reset", dac.path);
		wrf("1", "%s/buffer1/out_voltage0_en", dac.path);
		wrf("1", "%s/buffer1/out_voltage1_en", dac.path);
		set_trigger(&dac, "emuunbind");
		dfd = open(dac.chr, O_RDWR | O_CLOEXEC);
		db1 = dfd >= 0 ? iio_ioctl_int(dfd, EMU_IIO_BUFFER_GET_FD_IOCTL, 1) : -1;
		Q = heap_alloc(4096);
		ok = db1 >= 0 && Q >= 0 && dmabuf_attach(db1, Q) == 0 &&
		     enqueue(db1, Q, 64, EMU_IIO_DMABUF_CYCLIC) == 0 &&
		     wrf("1", "%s/buffer1/enable", dac.path) == 0;
		qsfd = Q >= 0 ? export_sync(Q) : -1;
		snprintf(pw, sizeof(pw), "%s/emu_cyclic_wraps", dac.path);
		CHECK(ok && wait_ge(1, 10000, pw) >= 1, "unbind: emu-dac streaming a cyclic block");
	}

	ret = wr(PLATFORM_DRV "/unbind", "iio-emu");
	CHECK(ret == 0, "unbind: write iio-emu to %s/unbind (%s)", PLATFORM_DRV,
	      ret ? strerror(-ret) : "ok");
	CHECK(wait_devices(false, 5000), "unbind: the four devices are gone");

	/* drain whatever was buffered, then the device is gone */
	do {
		n = read(cfd, tmp, sizeof(tmp));
	} while (n > 0);
	CHECK(n < 0 && errno == ENODEV, "unbind: read() on the open chardev -> ENODEV (%s)",
	      n < 0 ? strerror(errno) : "data");
	if (dmabuf) {
		ret = sfd >= 0 ? sync_status(sfd) : -1000;
		CHECK(ret == -ENODEV, "unbind: the queued DMABUF block was cancelled (fence status %d)", ret);
		ret = qsfd >= 0 ? sync_status(qsfd) : -1000;
		CHECK(ret == -ECANCELED, "unbind: the streaming cyclic block was cancelled (fence status %d)", ret);
		ret = A >= 0 ? enqueue(b1, A, 4000, 0) : -1;
		CHECK(ret == -ENODEV, "unbind: ENQUEUE on the orphaned buffer fd -> ENODEV (%d)", ret);
	} else {
		n = b1 >= 0 ? read(b1, tmp, sizeof(tmp)) : 0;
		CHECK(n < 0 && errno == ENODEV, "unbind: read() on the orphaned buffer1 fd -> ENODEV");
	}
	n = efd >= 0 ? read(efd, &ev, sizeof(ev)) : 0;
	CHECK(n < 0 && errno == ENODEV, "unbind: event fd read -> ENODEV");

	if (sfd >= 0)
		close(sfd);
	if (qsfd >= 0)
		close(qsfd);
	if (Q >= 0)
		close(Q);
	if (db1 >= 0)
		close(db1);
	if (dfd >= 0)
		close(dfd);
	if (efd >= 0)
		close(efd);
	if (tfd >= 0)
		close(tfd);
	if (b1 >= 0)
		close(b1);	/* detaches A: our callbacks run after unbind */
	if (A >= 0)
		close(A);
	if (cfd >= 0)
		close(cfd);

	ret = wr(PLATFORM_DRV "/bind", "iio-emu");
	CHECK(ret == 0, "unbind: write iio-emu to %s/bind", PLATFORM_DRV);
	CHECK(wait_devices(true, 5000), "unbind: the four devices are back");
	if (find_dev("emu-adc", &adc))
		CHECK(rdll("%s/buffer0/enable", adc.path) == 0, "unbind: the new emu-adc starts idle");
	hrtimer_remove("emuunbind");
	return n_fail ? 1 : 0;
}

/* ------------------------------------------------------- (h) rmmod/insmod */

static int cmd_rmmod(const char *ko)
{
	struct iiodev adc;
	int cfd, b1, kfd, ret, w, status = -1, A, B, sfd;
	bool dmabuf = kernel_has_dmabuf();
	pid_t pid;
	double t0;

	if (!find_dev("emu-adc", &adc)) {
		CHECK(false, "rmmod: emu-adc present");
		return 1;
	}
	cfd = open(adc.chr, O_RDONLY | O_CLOEXEC);
	ret = syscall(SYS_delete_module, "iio_emu", O_NONBLOCK);
	CHECK(ret != 0 && (errno == EWOULDBLOCK || errno == EBUSY),
	      "rmmod: refused while /dev/iio:device is open (%s)", ret ? strerror(errno) : "unloaded!");
	if (ret == 0)
		return 1;
	b1 = iio_ioctl_int(cfd, EMU_IIO_BUFFER_GET_FD_IOCTL, 1);
	close(cfd);
	A = dmabuf ? heap_alloc(4096) : -1;
	B = dmabuf ? heap_alloc(4096) : -1;
	if (dmabuf)
		CHECK(b1 >= 0 && A >= 0 && B >= 0 && dmabuf_attach(b1, A) == 0 &&
		      enqueue(b1, A, 4000, 0) == 0,
		      "rmmod: holding only a buffer fd, with a DMABUF attached and queued");
	else
		CHECK(b1 >= 0, "rmmod: holding only a buffer fd (no DMABUF)");
	sfd = A >= 0 ? export_sync(A) : -1;

	pid = fork();
	if (pid == 0) {
		close(b1);	/* the child must not keep the device alive */
		if (A >= 0)
			close(A);
		if (B >= 0)
			close(B);
		alarm(60);
		_exit(syscall(SYS_delete_module, "iio_emu", O_NONBLOCK) ? 1 : 0);
	}
	sleep_ms(1500);
	w = waitpid(pid, &status, WNOHANG);
	/* Without DMABUF a buffer fd holds nothing of this module (buffer1 is the core's kfifo). */
	if (dmabuf)
		CHECK(w == 0, "rmmod: module exit waits while the buffer fd of the removed device is open");
	CHECK(!any_emu_device(), "rmmod: devices already removed");
	if (dmabuf) {
		ret = sfd >= 0 ? sync_status(sfd) : -1000;
		CHECK(ret == -ENODEV, "rmmod: the queued block was cancelled (fence status %d)", ret);
		ret = B >= 0 ? dmabuf_attach(b1, B) : -1;
		CHECK(ret == -ENODEV, "rmmod: ATTACH on the orphaned buffer fd -> ENODEV (%d)", ret);
	}
	if (sfd >= 0)
		close(sfd);
	t0 = now_ms();
	close(b1);
	while (w == 0 && now_ms() - t0 < 10000) {
		sleep_ms(10);
		w = waitpid(pid, &status, WNOHANG);
	}
	CHECK(w == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "rmmod: completes once the fd is closed (%.0f ms)", now_ms() - t0);
	if (w != pid) {
		note("rmmod is stuck in module exit; giving up");
		return 1;
	}

	if (A >= 0)
		close(A);
	if (B >= 0)
		close(B);
	kfd = open(ko, O_RDONLY | O_CLOEXEC);
	ret = kfd >= 0 ? syscall(SYS_finit_module, kfd, "", 0) : -1;
	CHECK(ret == 0, "rmmod: insmod %s (%s)", ko, ret ? strerror(errno) : "ok");
	if (kfd >= 0)
		close(kfd);
	CHECK(wait_devices(true, 5000), "rmmod: the four devices are back after insmod");
	return n_fail ? 1 : 0;
}

/* ------------------------------------------------------------ stress */

/*
 * Repeatedly: stream emu-adc into buffer0 and DMABUF buffer1 and emu-dac from
 * a cyclic DMABUF block, re-enqueue blocks, toggle buffers (which cancels
 * blocks), then unbind while everything runs, close the fds in varying order
 * and bind again.  The kernel log is checked by run.sh afterwards.
 */
static int cmd_stress(int iters)
{
	struct iiodev adc, dac, trig;
	int it, i, done_total = 0;
	uint8_t tmp[4096];

	if (!hrtimer_create("emustress", 2000, &trig)) {
		CHECK(false, "stress: hrtimer trigger");
		return 1;
	}
	for (it = 0; it < iters; it++) {
		int cfd, b1, dfd, db1, D[3], Q, done = 0;
		double end;
		bool ok;

		if (!find_dev("emu-adc", &adc) || !find_dev("emu-dac", &dac)) {
			CHECK(false, "stress %d: devices present", it);
			break;
		}
		adc_buffer_setup(&adc, 0, ADC_ALL, true, 512);
		adc_buffer_setup(&adc, 1, (it & 1) ? 0x0f : ADC_ALL, true, 64);
		set_trigger(&adc, "emustress");
		cfd = open(adc.chr, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		b1 = iio_ioctl_int(cfd, EMU_IIO_BUFFER_GET_FD_IOCTL, 1);
		for (i = 0; i < 3; i++) {
			D[i] = heap_alloc(4096);
			dmabuf_attach(b1, D[i]);
			enqueue(b1, D[i], 4000, 0);
		}
		wrf("1", "%s/buffer1/enable", adc.path);
		wrf("1", "%s/buffer0/enable", adc.path);

		wrf("1", "%s/buffer1/out_voltage0_en", dac.path);
		wrf("1", "%s/buffer1/out_voltage1_en", dac.path);
		set_trigger(&dac, "emustress");
		dfd = open(dac.chr, O_RDWR | O_CLOEXEC);
		db1 = iio_ioctl_int(dfd, EMU_IIO_BUFFER_GET_FD_IOCTL, 1);
		Q = heap_alloc(4096);
		dmabuf_write(Q, tmp, 4096);
		dmabuf_attach(db1, Q);
		enqueue(db1, Q, 256, EMU_IIO_DMABUF_CYCLIC);
		wrf("1", "%s/buffer1/enable", dac.path);

		end = now_ms() + 150 + it * 70;
		while (now_ms() < end) {
			while (read(cfd, tmp, sizeof(tmp)) > 0)
				;
			for (i = 0; i < 3; i++) {
				if (wait_fd(D[i], POLLOUT, 0)) {
					done++;
					enqueue(b1, D[i], (it & 1) ? 1000 : 4000, 0);
				}
			}
			if (it % 3 == 2 && done == 2) {
				/* re-enable: cancels the queued blocks */
				wrf("0", "%s/buffer0/enable", adc.path);
				wrf("1", "%s/buffer0/enable", adc.path);
			}
			sleep_ms(2);
		}
		done_total += done;

		ok = wr(PLATFORM_DRV "/unbind", "iio-emu") == 0 && wait_devices(false, 5000);
		CHECK(ok, "stress %d: unbind while streaming (%d blocks completed)", it, done);
		if (it & 1) {
			close(cfd);
			close(dfd);
			for (i = 0; i < 3; i++)
				close(D[i]);
			close(b1);
			close(Q);
			close(db1);
		} else {
			close(b1);
			close(db1);
			close(cfd);
			for (i = 0; i < 3; i++)
				close(D[i]);
			close(Q);
			close(dfd);
		}
		ok = wr(PLATFORM_DRV "/bind", "iio-emu") == 0 && wait_devices(true, 5000);
		CHECK(ok, "stress %d: bind again", it);
		if (!ok)
			break;
	}
	if (kernel_has_dmabuf())
		CHECK(done_total > 0, "stress: DMABUF blocks completed while streaming (%d)", done_total);
	hrtimer_remove("emustress");
	return n_fail ? 1 : 0;
}

/* ------------------------------------------------ no DMABUF: fallback */

/*
 * Kernels without the IIO DMABUF API (< 6.11): buffer1 of emu-adc and emu-dac
 * is a kfifo. ATTACH fails with ENOTTY (the buffer fd has no ioctls), which is
 * what makes userspace fall back, and read()/write() on buffer1 carry the data.
 */
static int cmd_nodmabuf(void)
{
	struct iiodev adc, dac, trig;
	uint8_t tmp[400], data[64];
	int cfd = -1, b1 = -1, dfd = -1, db1 = -1, ret, i;
	char pscans[300], crcs[32];

	if (!find_dev("emu-adc", &adc) || !find_dev("emu-dac", &dac)) {
		CHECK(false, "nodmabuf: emu-adc and emu-dac present");
		return 1;
	}
	CHECK(hrtimer_create("emunodma", 1000, &trig), "nodmabuf: hrtimer trigger");
	adc_buffer_setup(&adc, 1, ADC_ALL, true, 256);
	set_trigger(&adc, "emunodma");
	cfd = open(adc.chr, O_RDONLY | O_CLOEXEC);
	b1 = cfd >= 0 ? iio_ioctl_int(cfd, EMU_IIO_BUFFER_GET_FD_IOCTL, 1) : -1;
	CHECK(b1 >= 0, "nodmabuf: emu-adc GET_FD(1)");
	ret = b1 >= 0 ? dmabuf_attach(b1, cfd) : 0;
	CHECK(ret == -ENOTTY, "nodmabuf: emu-adc buffer1 ATTACH -> ENOTTY (%d)", ret);
	CHECK(wrf("1", "%s/buffer1/enable", adc.path) == 0 && b1 >= 0 &&
	      read_full(b1, tmp, sizeof(tmp), 10000) == sizeof(tmp),
	      "nodmabuf: emu-adc buffer1 read() 10 scans of 40 bytes");
	wrf("0", "%s/buffer1/enable", adc.path);
	set_trigger(&adc, "");

	snprintf(pscans, sizeof(pscans), "%s/emu_consumed_scans", dac.path);
	wrf("1", "%s/emu_reset", dac.path);
	wrf("1", "%s/buffer1/out_voltage0_en", dac.path);
	wrf("1", "%s/buffer1/out_voltage1_en", dac.path);
	wrf("64", "%s/buffer1/length", dac.path);
	set_trigger(&dac, "emunodma");
	dfd = open(dac.chr, O_RDWR | O_CLOEXEC);
	db1 = dfd >= 0 ? iio_ioctl_int(dfd, EMU_IIO_BUFFER_GET_FD_IOCTL, 1) : -1;
	ret = db1 >= 0 ? dmabuf_attach(db1, dfd) : 0;
	CHECK(ret == -ENOTTY, "nodmabuf: emu-dac buffer1 ATTACH -> ENOTTY (%d)", ret);
	for (i = 0; i < 64; i++)
		data[i] = (uint8_t)(i * 29 + 3);
	ret = wrf("1", "%s/buffer1/enable", dac.path) == 0 && db1 >= 0 ?
	      (int)write(db1, data, sizeof(data)) : -1;
	CHECK(ret == 64, "nodmabuf: emu-dac buffer1 write() 64 bytes -> %d", ret);
	CHECK(wait_ge(16, 10000, pscans) == 16, "nodmabuf: emu-dac consumed the 16 scans");
	rdf(crcs, sizeof(crcs), "%s/emu_consumed_crc32", dac.path);
	CHECK(strtoul(crcs, NULL, 16) == crc32_update(0, data, 64),
	      "nodmabuf: emu_consumed_crc32 = %s (want 0x%08x)", crcs, crc32_update(0, data, 64));
	wrf("0", "%s/buffer1/enable", dac.path);
	set_trigger(&dac, "");
	if (db1 >= 0)
		close(db1);
	if (dfd >= 0)
		close(dfd);
	if (b1 >= 0)
		close(b1);
	if (cfd >= 0)
		close(cfd);
	hrtimer_remove("emunodma");
	return n_fail ? 1 : 0;
}

/* ------------------------------------------ unbind while free-running */

/*
 * Unbind while the free-running threads run: emu-adc mode 2 filling DMABUF
 * blocks (round 0: buffer1 alone, bulk; round 1: with buffer0, push path)
 * and emu-dac free-running on a cyclic block (+ write() in round 1).
 */
static int cmd_fastunbind(void)
{
	struct iiodev adc, dac;
	int it, i;
	uint8_t tmp[4096];

	memset(tmp, 0x11, sizeof(tmp));
	for (it = 0; it < 2; it++) {
		int cfd, b1, dfd, db1, D[3], Q, sfd, ret, done = 0;
		double end;
		bool ok;

		if (!find_dev("emu-adc", &adc) || !find_dev("emu-dac", &dac)) {
			CHECK(false, "fastunbind %d: devices present", it);
			return 1;
		}
		set_trigger(&adc, "");
		set_trigger(&dac, "");
		wrf("0", "%s/buffer0/enable", adc.path);
		wrf("0", "%s/buffer1/enable", adc.path);
		adc_buffer_setup(&adc, 0, ADC_ALL, true, 1024);
		adc_buffer_setup(&adc, 1, ADC_ALL, true, 64);
		ok = wrf("2", "%s/emu_free_running", adc.path) == 0;
		cfd = open(adc.chr, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		b1 = iio_ioctl_int(cfd, EMU_IIO_BUFFER_GET_FD_IOCTL, 1);
		for (i = 0; i < 3; i++) {
			D[i] = heap_alloc(FAST_BLK);
			ok &= dmabuf_attach(b1, D[i]) == 0 && enqueue(b1, D[i], FAST_BLK, 0) == 0;
		}
		ok &= wrf("1", "%s/buffer1/enable", adc.path) == 0;
		if (it == 1)
			ok &= wrf("1", "%s/buffer0/enable", adc.path) == 0;

		wrf("0", "%s/buffer0/enable", dac.path);
		wrf("0", "%s/buffer1/enable", dac.path);
		ok &= wrf("1", "%s/emu_free_running", dac.path) == 0;
		wrf("1", "%s/buffer0/out_voltage0_en", dac.path);
		wrf("1", "%s/buffer1/out_voltage0_en", dac.path);
		wrf("1", "%s/buffer1/out_voltage1_en", dac.path);
		wrf("4096", "%s/buffer0/length", dac.path);
		dfd = open(dac.chr, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		db1 = iio_ioctl_int(dfd, EMU_IIO_BUFFER_GET_FD_IOCTL, 1);
		Q = heap_alloc(4096);
		ok &= wrf("1", "%s/buffer1/enable", dac.path) == 0;
		if (it == 1)
			ok &= wrf("1", "%s/buffer0/enable", dac.path) == 0;
		/* after the enables: each of them cancels queued blocks */
		ok &= dmabuf_write(Q, tmp, 4096) && dmabuf_attach(db1, Q) == 0 &&
		      enqueue(db1, Q, 4096, EMU_IIO_DMABUF_CYCLIC) == 0;
		sfd = export_sync(Q);
		CHECK(ok, "fastunbind %d: emu-adc mode 2 (%s), emu-dac free-running (cyclic%s) started",
		      it, it ? "buffer0 + buffer1" : "buffer1 alone", it ? " + write()" : "");

		end = now_ms() + 300;
		while (now_ms() < end) {
			while (read(cfd, tmp, sizeof(tmp)) > 0)
				;
			if (it == 1)
				ret = write(dfd, tmp, sizeof(tmp));
			for (i = 0; i < 3; i++) {
				if (wait_fd(D[i], POLLOUT, 0)) {
					done++;
					enqueue(b1, D[i], FAST_BLK, 0);
				}
			}
			sleep_ms(1);
		}
		CHECK(done > 0 && rdll("%s/emu_cyclic_wraps", dac.path) > 0,
		      "fastunbind %d: streaming (%d blocks, %lld wraps)", it, done,
		      rdll("%s/emu_cyclic_wraps", dac.path));
		ok = wr(PLATFORM_DRV "/unbind", "iio-emu") == 0 && wait_devices(false, 5000);
		CHECK(ok, "fastunbind %d: unbind while the threads run", it);
		ret = sfd >= 0 ? sync_status(sfd) : -1000;
		CHECK(ret == -ECANCELED, "fastunbind %d: the cyclic block was cancelled (status %d)", it, ret);
		CHECK(find_kthread("iio-emu-adc") < 0 && find_kthread("iio-emu-dac") < 0,
		      "fastunbind %d: both threads are gone", it);
		if (sfd >= 0)
			close(sfd);
		close(db1);
		close(Q);
		close(dfd);
		for (i = 0; i < 3; i++)
			close(D[i]);
		close(b1);
		close(cfd);
		ok = wr(PLATFORM_DRV "/bind", "iio-emu") == 0 && wait_devices(true, 5000);
		CHECK(ok, "fastunbind %d: bind again", it);
		if (!ok)
			return 1;
	}
	CHECK(find_dev("emu-adc", &adc) && find_dev("emu-dac", &dac) &&
	      rdll("%s/emu_free_running", adc.path) == 0 &&
	      rdll("%s/emu_free_running", dac.path) == 0,
	      "fastunbind: the new devices start with emu_free_running 0");
	return n_fail ? 1 : 0;
}

/* ----------------------------------------------------------------- main */

/* ------------------------------------------------ ADI mmap block API chardev */

struct emu_blk_alloc_req {
	uint32_t type, size, count, id;
};

struct emu_blk {
	uint32_t id, size, bytes_used, type, flags, offset;
	uint64_t timestamp;
};

#define EMU_BLOCK_ALLOC_IOCTL	_IOWR('i', 0xa0, struct emu_blk_alloc_req)
#define EMU_BLOCK_FREE_IOCTL	_IO('i', 0xa1)
#define EMU_BLOCK_QUERY_IOCTL	_IOWR('i', 0xa2, struct emu_blk)
#define EMU_BLOCK_ENQUEUE_IOCTL	_IOWR('i', 0xa3, struct emu_blk)
#define EMU_BLOCK_DEQUEUE_IOCTL	_IOWR('i', 0xa4, struct emu_blk)

/* A blocking DEQUEUE in a child: exit status = 0 or the errno (255: killed by the timeout). */
static pid_t blk_dequeue_child(int fd, int timeout_s)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct emu_blk b = { 0 };

		alarm(timeout_s);
		_exit(ioctl(fd, EMU_BLOCK_DEQUEUE_IOCTL, &b) ? errno : 0);
	}
	return pid;
}

static int blk_child_status(pid_t pid)
{
	int st = 0;

	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

/*
 * The block chardev's blocking paths, which the TS suite cannot take (a blocking
 * ioctl on Node's main thread): blocking DEQUEUE woken by a finished block and
 * by device removal, a mapping that outlives the device, and the module kept
 * while the chardev is open.
 */
static int cmd_blocks(void)
{
	struct emu_blk_alloc_req req = { .size = 4096, .count = 2 };
	struct emu_blk b = { 0 };
	struct iiodev adc;
	struct layout l;
	uint8_t *m0 = MAP_FAILED;
	int fd = -1, st;
	pid_t child;

	if (!find_dev("emu-adc", &adc) || access("/dev/emu-adc-blocks", F_OK)) {
		CHECK(false, "blocks: emu-adc and /dev/emu-adc-blocks present");
		return 1;
	}
	wrf("0", "%s/buffer0/enable", adc.path);
	CHECK(adc_buffer_setup(&adc, 1, ADC_ALL, true, 64) && adc_layout(&adc, 1, ADC_ALL, true, &l),
	      "blocks: buffer1 with every channel");
	CHECK(wrf("2", "%s/emu_free_running", adc.path) == 0, "blocks: free-running mode 2");
	fd = open("/dev/emu-adc-blocks", O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0 && ioctl(fd, EMU_BLOCK_FREE_IOCTL) == 0 &&
	      ioctl(fd, EMU_BLOCK_ALLOC_IOCTL, &req) == 0 && req.id == 0 && req.count == 2,
	      "blocks: open, FREE, ALLOC 2 x 4096");
	m0 = fd >= 0 ? mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
	CHECK(m0 != MAP_FAILED, "blocks: mmap block 0");

	/* Blocking DEQUEUE sleeps until a block is finished. */
	child = blk_dequeue_child(fd, 20);
	sleep_ms(300);
	CHECK(waitpid(child, &st, WNOHANG) == 0, "blocks: blocking DEQUEUE sleeps while nothing is finished");
	b.id = 0;
	CHECK(ioctl(fd, EMU_BLOCK_ENQUEUE_IOCTL, &b) == 0 &&
	      wrf("1", "%s/buffer1/enable", adc.path) == 0,
	      "blocks: ENQUEUE block 0, enable buffer1");
	CHECK(blk_child_status(child) == 0, "blocks: the sleeping DEQUEUE returns once the block is filled");
	CHECK(m0 != MAP_FAILED && verify_scans(&l, m0, 4096 / l.size, 0, "blocks") == 0,
	      "blocks: block 0 holds scans n = 0..%d, exact", 4096 / l.size - 1);
	wrf("0", "%s/buffer1/enable", adc.path);

	/* Removal wakes a sleeping DEQUEUE with ENODEV; the mapping stays readable. */
	child = blk_dequeue_child(fd, 20);
	sleep_ms(300);
	CHECK(wr(PLATFORM_DRV "/unbind", "iio-emu") == 0 && wait_devices(false, 5000),
	      "blocks: unbind with the chardev open, a block mapped and a DEQUEUE asleep");
	CHECK(blk_child_status(child) == ENODEV, "blocks: the sleeping DEQUEUE ends with ENODEV");
	CHECK(ioctl(fd, EMU_BLOCK_ALLOC_IOCTL, &req) < 0 && errno == ENODEV, "blocks: ALLOC after removal: ENODEV");
	CHECK(m0 != MAP_FAILED && verify_scans(&l, m0, 1, 0, "blocks after unbind") == 0,
	      "blocks: the mapping still reads the data after removal");
	if (m0 != MAP_FAILED)
		munmap(m0, 4096);
	if (fd >= 0)
		close(fd);
	CHECK(wr(PLATFORM_DRV "/bind", "iio-emu") == 0 && wait_devices(true, 5000) &&
	      access("/dev/emu-adc-blocks", F_OK) == 0,
	      "blocks: bind again, the chardev is back");
	if (find_dev("emu-adc", &adc))
		wrf("0", "%s/emu_free_running", adc.path);
	return n_fail ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "capture"))
		return cmd_capture(argc > 2 ? atoi(argv[2]) : 1000,
				   argc > 3 ? atoi(argv[3]) : 2000, false);
	if (!strcmp(argv[1], "freerun"))
		return cmd_capture(argc > 2 ? atoi(argv[2]) : 1000,
				   argc > 3 ? atoi(argv[3]) : 2000, true);
	if (!strcmp(argv[1], "fast"))
		return cmd_fast(argc > 2 ? atoi(argv[2]) : 100000,
				argc > 3 ? atoi(argv[3]) : 50);
	if (!strcmp(argv[1], "dacfast"))
		return cmd_dacfast();
	if (!strcmp(argv[1], "fastunbind"))
		return cmd_fastunbind();
	if (!strcmp(argv[1], "bench"))
		return cmd_bench(argc > 2 ? atoi(argv[2]) : 2);
	if (!strcmp(argv[1], "sysfstrig"))
		return cmd_sysfstrig();
	if (!strcmp(argv[1], "events"))
		return cmd_events();
	if (!strcmp(argv[1], "dmabuf"))
		return cmd_dmabuf();
	if (!strcmp(argv[1], "dac"))
		return cmd_dac();
	if (!strcmp(argv[1], "nodmabuf"))
		return cmd_nodmabuf();
	if (!strcmp(argv[1], "unbind"))
		return cmd_unbind();
	if (!strcmp(argv[1], "blocks"))
		return cmd_blocks();
	if (!strcmp(argv[1], "stress"))
		return cmd_stress(argc > 2 ? atoi(argv[2]) : 6);
	if (!strcmp(argv[1], "rmmod") && argc > 2)
		return cmd_rmmod(argv[2]);
	if (!strcmp(argv[1], "write") && argc > 3) {
		/* write VALUE to PATH; exit status = errno (0 on success) */
		int ret = wr(argv[2], argv[3]);

		if (ret)
			fprintf(stderr, "write %s: %s\n", argv[2], strerror(-ret));
		return -ret;
	}
usage:
	fprintf(stderr, "usage: %s capture [N [HZ]] | freerun [N [HZ]] | fast [N [BLOCKS]] | dacfast | fastunbind | bench [S] | sysfstrig | events | dmabuf | nodmabuf | dac | unbind | blocks | stress [N] | rmmod KO | write PATH VALUE\n",
		argv[0]);
	return 2;
}
