// SPDX-License-Identifier: GPL-2.0
/*
 * iio_emu - emulated IIO devices for the node-red-contrib-iio test harness.
 *
 * Module init registers the platform driver "iio-emu" and one platform device
 * "iio-emu" (no id).  probe() widens the device's DMA mask to 64 bits (the IIO
 * core maps DMABUFs against the IIO device's parent) and registers four IIO
 * devices, all devm-managed under the platform device:
 *
 *   emu-thermo (label board-temp)  temperature, threshold events
 *   emu-adc    (label adc-main)    9 scan elements, kfifo buffer0, DMABUF buffer1
 *   emu-dac    (label dac-main)    2 output channels, kfifo buffer0, DMABUF buffer1
 *   emu-mux    (label mux-adc)     differential/single-ended/supply/accel channels,
 *                                  one channel per scan (kfifo buffer0)
 *
 * Unbind/bind through /sys/bus/platform/drivers/iio-emu/{unbind,bind} removes
 * and re-adds all four.  See README.md for every attribute.
 */
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/rcupdate.h>

#include "emu.h"

#define EMU_DRV_NAME "iio-emu"

static atomic_t emu_live_objs = ATOMIC_INIT(0);
static struct platform_device *emu_pdev;

void emu_obj_get(void)
{
	atomic_inc(&emu_live_objs);
}

void emu_obj_put(void)
{
	/*
	 * Module exit polls the counter (no wake-up from here, so the exiting
	 * task is not scheduled onto this CPU by us) and then waits for an RCU
	 * grace period, which covers this preemption-disabled section.
	 */
	preempt_disable();
	atomic_dec(&emu_live_objs);
	preempt_enable();
}

static int emu_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	int ret;

	ret = dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		return dev_err_probe(dev, ret, "cannot set a 64-bit DMA mask\n");

	ret = emu_thermo_probe(dev);
	if (ret)
		return dev_err_probe(dev, ret, "emu-thermo\n");

	ret = emu_adc_probe(dev);
	if (ret)
		return dev_err_probe(dev, ret, "emu-adc\n");

	ret = emu_dac_probe(dev);
	if (ret)
		return dev_err_probe(dev, ret, "emu-dac\n");

	ret = emu_mux_probe(dev);
	if (ret)
		return dev_err_probe(dev, ret, "emu-mux\n");

	return 0;
}

static struct platform_driver emu_driver = {
	.driver = {
		.name = EMU_DRV_NAME,
	},
	.probe = emu_probe,
};

static int __init emu_init(void)
{
	int ret;

	ret = platform_driver_register(&emu_driver);
	if (ret)
		return ret;

	emu_pdev = platform_device_register_simple(EMU_DRV_NAME,
						   PLATFORM_DEVID_NONE,
						   NULL, 0);
	if (IS_ERR(emu_pdev)) {
		platform_driver_unregister(&emu_driver);
		return PTR_ERR(emu_pdev);
	}
	/*
	 * DMABUF attachments point at this device (the IIO core attaches to
	 * the IIO device's parent) and can outlive its unregistration while a
	 * buffer fd stays open: keep it allocated until module exit is done.
	 */
	get_device(&emu_pdev->dev);

	return 0;
}

static void __exit emu_exit(void)
{
	unsigned int waited = 0;

	platform_device_unregister(emu_pdev);
	platform_driver_unregister(&emu_driver);

	/*
	 * A buffer fd of a removed device keeps its IIO device, and so our
	 * buffer, alive; the core then calls our release/detach callbacks when
	 * it is closed.  Wait for that rather than leave dangling code pointers.
	 */
	while (atomic_read(&emu_live_objs)) {
		if (waited++ % 500 == 0)
			pr_info(EMU_DRV_NAME ": waiting for userspace to close buffer fds of removed devices (%d objects)\n",
				atomic_read(&emu_live_objs));
		msleep(20);
	}
	synchronize_rcu();
	/* The core finishes dma_buf_detach() right after our last callback. */
	msleep(100);
	put_device(&emu_pdev->dev);
}

module_init(emu_init);
module_exit(emu_exit);

MODULE_DESCRIPTION("Emulated IIO devices (thermometer, ADC, DAC, multiplexed ADC) with DMABUF buffers, for testing");
MODULE_AUTHOR("node-red-contrib-iio");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
