// page.evaluate() callbacks run in the browser.
/// <reference lib="dom" />
/**
 * Reading a screenshot's pixels, for browser tests that check what a page
 * shows rather than that a screenshot file exists. The PNG is decoded by
 * Chromium itself (a blank page of the same browser), so no image library is
 * needed.
 */
import type { Browser } from "playwright-core";

/** A rectangle in CSS pixels, as `locator.boundingBox()` returns it. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The WCAG contrast ratio of the text in each box of a screenshot, read from
 * its pixels: the box's most common colour is the background; the text's
 * colour is the most contrasting one that at least `minPixels` pixels reach,
 * so antialiasing and a few stray pixels do not count. `scale` is the
 * screenshot's device scale factor. A box with no text reads 1.
 */
export async function textContrasts(browser: Browser, png: Buffer, boxes: readonly Box[], scale: number, minPixels = 20): Promise<number[]> {
  const page = await browser.newPage();
  try {
    return await page.evaluate(
      async ({ base64, boxes, scale, minPixels }) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const context = canvas.getContext("2d");
        if (!context) throw new Error("no 2d canvas context");
        context.drawImage(bitmap, 0, 0);
        const channel = (v: number) => {
          const s = v / 255;
          return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
        };
        const luminance = (rgb: number) => 0.2126 * channel((rgb >> 16) & 255) + 0.7152 * channel((rgb >> 8) & 255) + 0.0722 * channel(rgb & 255);
        return boxes.map((box) => {
          const x = Math.max(0, Math.round(box.x * scale));
          const y = Math.max(0, Math.round(box.y * scale));
          const width = Math.min(bitmap.width - x, Math.round(box.width * scale));
          const height = Math.min(bitmap.height - y, Math.round(box.height * scale));
          if (width <= 0 || height <= 0) throw new Error(`box ${JSON.stringify(box)} is empty or outside the ${bitmap.width}×${bitmap.height} screenshot`);
          const { data } = context.getImageData(x, y, width, height);
          const counts = new Map<number, number>();
          for (let i = 0; i < data.length; i += 4) {
            const rgb = ((data[i] ?? 0) << 16) | ((data[i + 1] ?? 0) << 8) | (data[i + 2] ?? 0);
            counts.set(rgb, (counts.get(rgb) ?? 0) + 1);
          }
          let background = 0;
          let most = 0;
          for (const [rgb, n] of counts) if (n > most) [background, most] = [rgb, n];
          const back = luminance(background);
          const ratios = [...counts]
            .map(([rgb, n]) => {
              const [light, dark] = [luminance(rgb), back].sort((a, b) => b - a) as [number, number];
              return { ratio: (light + 0.05) / (dark + 0.05), n };
            })
            .sort((a, b) => b.ratio - a.ratio);
          let reached = 0;
          for (const { ratio, n } of ratios) {
            reached += n;
            if (reached >= minPixels) return ratio;
          }
          return 1;
        });
      },
      { base64: png.toString("base64"), boxes, scale, minPixels },
    );
  } finally {
    await page.close();
  }
}
