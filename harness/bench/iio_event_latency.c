// Yardstick for the event benchmark (test/bench/table.ts): the least a reader of an IIO event fd
// can do. Gets the event fd (IIO_GET_EVENT_FD_IOCTL), blocks in read(), and prints for each event
// the delay from its kernel timestamp to now on CLOCK_MONOTONIC (the device's
// current_timestamp_clock must be "monotonic"), one line in ns per event, until COUNT events.
//   iio_event_latency /dev/iio:deviceN COUNT
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/iio/events.h>

int main(int argc, char **argv)
{
	struct iio_event_data ev[16];
	struct timespec now;
	long count, seen = 0;
	int dev, fd;

	if (argc != 3 || (count = strtol(argv[2], NULL, 10)) < 1) {
		fprintf(stderr, "usage: %s /dev/iio:deviceN COUNT\n", argv[0]);
		return 2;
	}
	dev = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (dev < 0) {
		fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (ioctl(dev, IIO_GET_EVENT_FD_IOCTL, &fd) < 0) {
		fprintf(stderr, "IIO_GET_EVENT_FD_IOCTL: %s\n", strerror(errno));
		return 1;
	}
	/* Tells the driver of the benchmark that the fd is open. */
	printf("ready\n");
	fflush(stdout);
	while (seen < count) {
		ssize_t n = read(fd, ev, sizeof(ev));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "read: %s\n", strerror(errno));
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		for (size_t i = 0; i < (size_t)n / sizeof(ev[0]) && seen < count; i++, seen++)
			printf("%lld\n", (long long)now.tv_sec * 1000000000LL + now.tv_nsec - (long long)ev[i].timestamp);
		fflush(stdout);
	}
	close(fd);
	close(dev);
	return 0;
}
