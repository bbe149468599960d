/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iio_emu - emulated IIO devices for the node-red-contrib-iio test harness.
 * Shared declarations between the parts of the module.
 */
#ifndef IIO_EMU_H
#define IIO_EMU_H

#include <linux/types.h>
#include <linux/iio/buffer.h>

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

/* True while @buffer is enabled (on the device's list of active buffers). Only
 * stable when called from the trigger handler or under the device's mlock. */
bool emu_buffer_is_active(struct iio_buffer *buffer);

int emu_thermo_probe(struct device *dev);
int emu_adc_probe(struct device *dev);
int emu_dac_probe(struct device *dev);

#endif /* IIO_EMU_H */
