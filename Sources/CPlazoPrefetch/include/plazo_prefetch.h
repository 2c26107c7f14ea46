/* Cache prefetch hints for PlazoCases' case index (Swift has no prefetch of its own).
 * A hint only: it never faults, changes no value, and may be ignored by the CPU. */
#ifndef PLAZO_PREFETCH_H
#define PLAZO_PREFETCH_H

/// Asks the CPU to bring the cache line at `address` closer, for a read and a write soon after.
static inline void plazo_prefetch(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
