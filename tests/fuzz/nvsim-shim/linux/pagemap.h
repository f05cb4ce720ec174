/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "kernel-shim.h"
/* one thread, no faults: page locks have nothing to exclude */
struct folio;
#define page_folio(p) ((struct folio *)(p))
#define folio_lock(f) ((void)(f))
#define folio_unlock(f) ((void)(f))
