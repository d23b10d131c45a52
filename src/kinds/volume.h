/* volume.h: the volume kind ("POOL/VOLUME"): a VM's disk image, declared by its disks. */
#pragma once
#include <libvirt/libvirt.h>

#include "kinds/kind.h"

extern const pf_kind_ops pf_volume_kind;

/* pf_volumes_observe: the volumes of active pool `p` into have (the pool kind lists pools). */
void pf_volumes_observe(pf_kind_ctx *k, virStoragePoolPtr p, const char *pool_name, pf_objset *have, pf_fields *fb);
