/* The header's function is static inline; SwiftPM needs one source file per C target. */
#include "plazo_prefetch.h"
