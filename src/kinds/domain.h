/* domain.h: the VirtualMachine kind (a libvirt domain). Rendering is libvirt/render.c's, the
 * fields libvirt/fields.c's, the merge into a live definition libvirt/merge.c's. */
#pragma once
#include "kinds/kind.h"

extern const pf_kind_ops pf_domain_kind;

/* pf_domain_nic_facts: where the interfaces of podform's live VMs are now, as the attachment
 * rules see them (resolve/attach.h), in have's arena; the array is malloc'd. */
pf_nic_fact *pf_domain_nic_facts(pf_kind_ctx *k, pf_objset *have, size_t *n);

/* domain_show.c: a live domain as a VirtualMachine document (the kind's show entry). */
void pf_domain_show(const pf_kind_ops *self, const pf_kind_ctx *k, const pf_objset *have, const pf_obj *live,
                    pf_yaml_out *y);
/* Whether a live domain's VirtualMachine document shows volume POOL/VOLUME as one of its disks. */
bool pf_domain_shows_volume(const pf_kind_ctx *k, const pf_objset *have, const char *pool, const char *volume);

/* A macvtap libvirt made for a running domain's <interface type='direct'>: the device, the VM. */
typedef struct pf_vm_tap { const char *dev, *vm; } pf_vm_tap;
int pf_vm_tap_cmp(const void *a, const void *b);      /* by device */
/* pf_domain_macvtaps: every running domain's, sorted by device, strings in `a`; the array is
 * malloc'd. libvirt names each in the live definition (<target dev='macvtap0'/>), creates it at
 * start and deletes it at stop. */
pf_vm_tap *pf_domain_macvtaps(pf_kind_ctx *k, pf_arena *a, size_t *n);
/* pf_domain_running_user: the running domain that has volume POOL/VOLUME as a disk, and the
 * disk's target in *dev ("" when it names none); NULL when no running domain has it. */
const char *pf_domain_running_user(pf_kind_ctx *k, const char *pool, const char *volume, const char **dev);
