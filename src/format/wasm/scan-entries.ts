/** Kept for its importers: the entry scanner is now part of the decode kernel (decode-kernel.ts). */
export { SCAN_MAX_PREVIOUS_KEY, scanKernel, type ScanResult } from './decode-kernel.js';
