// Yardstick for the DMABUF capture row of the benchmark (test/bench/table.ts): the least a DMABUF
// reader of an IIO buffer can do. Sets buffer1 of the device up as DmabufCapture (src/dmabuf.ts)
// does, in the same order: buffer fd by IIO_BUFFER_GET_FD_IOCTL, enable 0, every scan element on,
// length 4 blocks and watermark 1 block, NBLOCKS DMABUFs from /dev/dma_heap/system mmapped and
// attached, each enqueued, enable 1. Then, as each block completes (POLLOUT on its fd), in queue
// order: DMA_BUF_IOCTL_SYNC start, read its first 8 bytes, SYNC end, enqueue it again.
// After a 0.5 s warm-up (as the table's windows) it counts for SECONDS and prints one JSON line:
//   {"bytes":N,"seconds":S,"cpu_ms":user+sys of the process over those seconds,"blocks":B}
// then disables buffer1, detaches and frees the blocks and puts the scan elements back.
// The device must run without a trigger (emu-adc: emu_free_running=2, set by the caller).
//   iio_dmabuf_capture /sys/bus/iio/devices/iio:deviceN SECONDS BLOCK_BYTES NBLOCKS
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>

/* IIO UAPI, spelled out as in harness/selftest (the host's uapi headers may predate DMABUF). */
#define IIO_BUFFER_GET_FD_IOCTL		_IOWR('i', 0x91, int)
#define IIO_DMABUF_ATTACH_IOCTL		_IOW('i', 0x92, int)
#define IIO_DMABUF_DETACH_IOCTL		_IOW('i', 0x93, int)
struct iio_dmabuf {
	uint32_t fd;
	uint32_t flags;
	uint64_t bytes_used;
};
#define IIO_DMABUF_ENQUEUE_IOCTL	_IOW('i', 0x94, struct iio_dmabuf)

#define BUF "buffer1"
#define HEAP "/dev/dma_heap/system"
#define MAX_BLOCKS 64
#define MAX_ELEMS 64
#define WARMUP_S 0.5
#define STALL_MS 5000

static const char *devdir;
static volatile sig_atomic_t stop;

static int fail(const char *what, int err)
{
	const char *name = strerrorname_np(err);

	fprintf(stderr, "iio_dmabuf_capture: %s: %s (%s)\n", what, strerror(err), name ? name : "?");
	return -1;
}

/* Writes @val to DEVDIR/@attr. */
static int wr(const char *attr, long val)
{
	char path[PATH_MAX], s[32], what[PATH_MAX + 16];
	int fd, n, err = 0;

	snprintf(path, sizeof(path), "%s/%s", devdir, attr);
	n = snprintf(s, sizeof(s), "%ld", val);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, s, n) != n)
		err = errno;
	if (fd >= 0)
		close(fd);
	if (!err)
		return 0;
	snprintf(what, sizeof(what), "%s %s", fd < 0 ? "open" : "write", path);
	return fail(what, err);
}

/* Reads DEVDIR/@attr into @s (newline stripped). */
static int rd(const char *attr, char *s, size_t len)
{
	char path[PATH_MAX], what[PATH_MAX + 16];
	ssize_t n = -1;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", devdir, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (n = read(fd, s, len - 1)) < 0)
		err = errno;
	if (fd >= 0)
		close(fd);
	if (err) {
		snprintf(what, sizeof(what), "%s %s", fd < 0 ? "open" : "read", path);
		return fail(what, err);
	}
	s[n] = '\0';
	s[strcspn(s, "\n")] = '\0';
	return 0;
}

/* buffer1's scan elements: name prefix (in_voltage0), whether enabled before us, index, bytes. */
struct elem {
	char name[NAME_MAX];
	bool was_on;
	long index;
	unsigned int bytes;
};
static struct elem elems[MAX_ELEMS];
static int nelems;

static int find_elems(void)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/" BUF, devdir);
	d = opendir(path);
	if (!d)
		return fail(path, errno);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (strncmp(e->d_name, "in_", 3) || n < 4 || strcmp(e->d_name + n - 3, "_en"))
			continue;
		if (nelems == MAX_ELEMS) {
			closedir(d);
			fprintf(stderr, "iio_dmabuf_capture: more than %d scan elements\n", MAX_ELEMS);
			return -1;
		}
		snprintf(elems[nelems++].name, NAME_MAX, "%.*s", (int)(n - 3), e->d_name);
	}
	closedir(d);
	if (!nelems) {
		fprintf(stderr, "iio_dmabuf_capture: no scan elements in %s\n", path);
		return -1;
	}
	return 0;
}

/* Reads each element's state, index and size (type [be|le]:[s|u]bits/storagebits[Xrepeat]>>shift). */
static int read_elems(void)
{
	char attr[NAME_MAX + 16], s[64];
	unsigned int bits, storage, repeat;
	int i;

	for (i = 0; i < nelems; i++) {
		struct elem *el = &elems[i];
		const char *x;

		snprintf(attr, sizeof(attr), BUF "/%.200s_en", el->name);
		if (rd(attr, s, sizeof(s)))
			return -1;
		el->was_on = strtol(s, NULL, 10) != 0;
		snprintf(attr, sizeof(attr), BUF "/%.200s_index", el->name);
		if (rd(attr, s, sizeof(s)))
			return -1;
		el->index = strtol(s, NULL, 10);
		snprintf(attr, sizeof(attr), BUF "/%.200s_type", el->name);
		if (rd(attr, s, sizeof(s)))
			return -1;
		x = strchr(s, ':');
		if (!x || sscanf(x + 2, "%u/%u", &bits, &storage) != 2 || storage % 8 || !storage) {
			fprintf(stderr, "iio_dmabuf_capture: %s/" BUF "/%s_type: cannot parse '%s'\n", devdir, el->name, s);
			return -1;
		}
		x = strchr(s, 'X');
		repeat = x ? (unsigned int)strtoul(x + 1, NULL, 10) : 1;
		el->bytes = storage / 8 * (repeat > 1 ? repeat : 1);
	}
	return 0;
}

static int by_index(const void *a, const void *b)
{
	const struct elem *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

/* Scan size with every element on, as the kernel lays it out (iio_compute_scan_bytes). */
static unsigned int scan_bytes(void)
{
	unsigned int bytes = 0, largest = 1;
	int i;

	qsort(elems, nelems, sizeof(elems[0]), by_index);
	for (i = 0; i < nelems; i++) {
		unsigned int len = elems[i].bytes;

		bytes = (bytes + len - 1) / len * len + len;
		if (len > largest)
			largest = len;
	}
	return (bytes + largest - 1) / largest * largest;
}

/* Turns every scan element on (set_on) or puts back the ones that were off (!set_on). */
static int set_elems(bool set_on)
{
	char attr[NAME_MAX + 16];
	int i, ret = 0;

	for (i = 0; i < nelems; i++) {
		if (elems[i].was_on)
			continue;
		snprintf(attr, sizeof(attr), BUF "/%.200s_en", elems[i].name);
		ret |= wr(attr, set_on);
	}
	return ret;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_ms(void)
{
	struct rusage r;

	getrusage(RUSAGE_SELF, &r);
	return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3;
}

static int sync_block(int dfd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(dfd, DMA_BUF_IOCTL_SYNC, &s) ? fail("DMA_BUF_IOCTL_SYNC", errno) : 0;
}

static int enqueue(int bfd, int dfd, uint64_t bytes)
{
	struct iio_dmabuf q = { .fd = (uint32_t)dfd, .bytes_used = bytes };

	return ioctl(bfd, IIO_DMABUF_ENQUEUE_IOCTL, &q) ? fail("IIO_DMABUF_ENQUEUE_IOCTL", errno) : 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	static int dfd[MAX_BLOCKS];
	static uint8_t *map[MAX_BLOCKS];
	static bool attached[MAX_BLOCKS];
	struct pollfd pf[MAX_BLOCKS];
	struct sigaction sa = { .sa_handler = on_signal };
	char chr[PATH_MAX], wm[PATH_MAX], s[64];
	const char *base;
	double seconds, t0 = 0, t_end = 0, t_last, c0 = 0;
	volatile uint64_t sum = 0;
	uint64_t bytes = 0, blocks = 0;
	long block_bytes, nblocks, scans, length;
	size_t alloc = 0;
	unsigned int scan;
	int dev = -1, bfd = -1, heap = -1, head = 0, i, ret = 1;
	bool enabled = false, elems_set = false, measuring = false;

	if (argc != 5 || (seconds = strtod(argv[2], NULL)) <= 0 || (block_bytes = strtol(argv[3], NULL, 10)) < 8 ||
	    (nblocks = strtol(argv[4], NULL, 10)) < 1 || nblocks > MAX_BLOCKS) {
		fprintf(stderr, "usage: %s /sys/bus/iio/devices/iio:deviceN SECONDS BLOCK_BYTES NBLOCKS (1..%d)\n", argv[0], MAX_BLOCKS);
		return 2;
	}
	devdir = argv[1];
	for (i = 0; i < nblocks; i++)
		dfd[i] = -1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	/* The buffer fd first (EBUSY if someone else has it), then its configuration. */
	base = strrchr(devdir, '/');
	snprintf(chr, sizeof(chr), "/dev/%s", base ? base + 1 : devdir);
	dev = open(chr, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (dev < 0) {
		fail(chr, errno);
		goto out;
	}
	bfd = 1;
	if (ioctl(dev, IIO_BUFFER_GET_FD_IOCTL, &bfd)) {
		bfd = -1;
		fail("IIO_BUFFER_GET_FD_IOCTL 1", errno);
		goto out;
	}
	if (rd(BUF "/enable", s, sizeof(s)))
		goto out;
	if (strtol(s, NULL, 10) && wr(BUF "/enable", 0))
		goto out;
	if (find_elems() || read_elems())
		goto out;
	scan = scan_bytes();
	if (block_bytes % scan) {
		fprintf(stderr, "iio_dmabuf_capture: BLOCK_BYTES %ld is not a whole number of %u-byte scans\n", block_bytes, scan);
		goto out;
	}
	elems_set = true;
	if (set_elems(true))
		goto out;
	scans = block_bytes / scan;
	length = 4 * scans > 16 ? 4 * scans : 16;
	snprintf(wm, sizeof(wm), "%s/" BUF "/watermark", devdir);
	if (wr(BUF "/length", length) || (access(wm, F_OK) == 0 && wr(BUF "/watermark", scans)))
		goto out;

	/* The pool: allocated, mapped and attached, then each enqueued; enable last. */
	alloc = ((size_t)block_bytes + 4095) / 4096 * 4096;
	heap = open(HEAP, O_RDWR | O_CLOEXEC);
	if (heap < 0) {
		fail("open " HEAP, errno);
		goto out;
	}
	for (i = 0; i < nblocks; i++) {
		struct dma_heap_allocation_data a = { .len = alloc, .fd_flags = O_RDWR | O_CLOEXEC };
		void *p;

		if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a)) {
			fail("DMA_HEAP_IOCTL_ALLOC", errno);
			goto out;
		}
		dfd[i] = (int)a.fd;
		p = mmap(NULL, alloc, PROT_READ | PROT_WRITE, MAP_SHARED, dfd[i], 0);
		if (p == MAP_FAILED) {
			fail("mmap DMABUF", errno);
			goto out;
		}
		map[i] = p;
		if (ioctl(bfd, IIO_DMABUF_ATTACH_IOCTL, &dfd[i])) {
			fail("IIO_DMABUF_ATTACH_IOCTL", errno);
			goto out;
		}
		attached[i] = true;
		pf[i] = (struct pollfd){ .fd = dfd[i], .events = POLLOUT };
	}
	close(heap);
	heap = -1;
	for (i = 0; i < nblocks; i++)
		if (enqueue(bfd, dfd[i], block_bytes))
			goto out;
	if (wr(BUF "/enable", 1))
		goto out;
	enabled = true;

	/* Blocks complete in queue order: take them from the head, requeue each at once. */
	t_last = now_s();
	t_end = t_last + WARMUP_S;
	while (!stop) {
		double t = now_s();
		int n, ms;

		if (t >= t_end) {
			if (measuring)
				break;
			measuring = true;
			t0 = t;
			c0 = cpu_ms();
			t_end = t0 + seconds;
		}
		ms = (int)((t_end - t) * 1000) + 1;
		if (ms > 1000)
			ms = 1000;
		n = poll(pf, nblocks, ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fail("poll", errno);
			goto out;
		}
		t = now_s();
		if (n == 0) {
			if ((t - t_last) * 1000 > STALL_MS) {
				fprintf(stderr, "iio_dmabuf_capture: no block completed in %d ms (is the device running free?)\n", STALL_MS);
				goto out;
			}
			continue;
		}
		for (i = 0; i < nblocks && (pf[head].revents & (POLLOUT | POLLERR)); i++) {
			if (pf[head].revents & POLLERR) {
				fail("poll DMABUF", EIO);
				goto out;
			}
			if (sync_block(dfd[head], DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ))
				goto out;
			sum += *(const volatile uint64_t *)map[head];
			if (sync_block(dfd[head], DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ))
				goto out;
			if (enqueue(bfd, dfd[head], block_bytes))
				goto out;
			pf[head].revents = 0;
			if (measuring) {
				bytes += block_bytes;
				blocks++;
			}
			head = (head + 1) % nblocks;
			t_last = t;
		}
	}
	if (stop) {
		fprintf(stderr, "iio_dmabuf_capture: interrupted\n");
		goto out;
	}
	printf("{\"bytes\":%llu,\"seconds\":%.6f,\"cpu_ms\":%.3f,\"blocks\":%llu}\n", (unsigned long long)bytes,
	       now_s() - t0, cpu_ms() - c0, (unsigned long long)blocks);
	fflush(stdout);
	ret = 0;
out:
	/* As DmabufCapture closes: disable, detach and free the blocks, close the fds, scan elements back. */
	if (enabled && wr(BUF "/enable", 0))
		ret = 1;
	for (i = 0; i < nblocks; i++) {
		if (attached[i] && ioctl(bfd, IIO_DMABUF_DETACH_IOCTL, &dfd[i])) {
			fail("IIO_DMABUF_DETACH_IOCTL", errno);
			ret = 1;
		}
		if (map[i])
			munmap(map[i], alloc);
		if (dfd[i] >= 0)
			close(dfd[i]);
	}
	if (heap >= 0)
		close(heap);
	if (bfd >= 0)
		close(bfd);
	if (dev >= 0)
		close(dev);
	if (elems_set && set_elems(false))
		ret = 1;
	(void)sum;
	return ret;
}
