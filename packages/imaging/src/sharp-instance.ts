import sharp from 'sharp';

// Each transform reads a new image: libvips' operation cache would only hold memory (and blur RSS measurements).
sharp.cache(false);

export { sharp };
