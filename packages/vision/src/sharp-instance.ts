import sharp from 'sharp';

// Every image is seen once: libvips' operation cache would only hold memory (and blur RSS measurements).
sharp.cache(false);

export { sharp };
