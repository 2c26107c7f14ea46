#ifndef PLAZO_CSODIUM_SHIM_H
#define PLAZO_CSODIUM_SHIM_H
#include <sodium.h>
#endif
