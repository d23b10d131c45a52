/* pool.h: the StoragePool kind (a libvirt directory pool). */
#pragma once
#include "kinds/kind.h"

extern const pf_kind_ops pf_pool_kind;
