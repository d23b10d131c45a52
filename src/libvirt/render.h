/* render.h: the desired libvirt XML of each declared resource (podform.yaml(5)), built with
 * libxml2, never by string concatenation. Pure: no libvirt calls; what rendering needs from the
 * live host comes through pf_render_env. Every document validates against libvirt's RNG schemas
 * (tests/unit/test_render.c). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "model/link_view.h"
#include "model/model.h"
#include "resolve/attach.h"
#include "util/arena.h"
#include "util/diag.h"

/* Domain ownership metadata (spec section 4). */
#define PF_XMLNS "https://podform.dev/xmlns/1"
#define PF_XMLNS_PREFIX "podform"

typedef struct pf_render_env {
        const char *host_name;          /* MAC derivation input */
        const pf_host *host;            /* effective Host settings, defaults filled; never NULL */
        const pf_model *model;
        /* The MAC a live podform-owned domain already records for this interface (its metadata),
         * or NULL. Once a NIC exists its MAC never changes, even if derivation would differ. */
        const char *(*live_mac)(void *ud, const char *vm, const char *iface);
        /* Whether a libvirt network of this name exists on the host (multus/genie networkName
         * names a Network or a Bridge; a declared Network is found in `model`). */
        bool (*live_network)(void *ud, const char *name);
        /* The PCI address of host network interface `ifname` (sriov with host.interface). */
        bool (*host_pci)(void *ud, const char *ifname, pf_pci *ret);
        /* Whether the live domain `vm` has a disk that is none of podform's (a CD-ROM, a file)
         * on target `dev`: podform's disks skip that name, since the merge keeps that disk. */
        bool (*dev_taken)(void *ud, const char *vm, const char *dev);
        /* The type of a VM that sets none (what the host offers); NULL: kvm. */
        pf_domain_type (*domain_type)(void *ud, const pf_vm *vm);
        void *ud;                       /* passed to the callbacks; they may be NULL */
        /* The host's links: a VM on a link that is none could never start (kind), and the kernel
         * puts no macvtap on a bridge port (port_of). A NULL callback: not checked. */
        pf_link_view links;
        /* libvirt's version (major * 1000000 + minor * 1000 + micro), 0 when unknown. Debian 12's
         * 9.0.0 rejects <backend type='passt'/> (built without it; libvirt issue 462), so below
         * 9.1 a masquerade NIC goes on podform's NAT network instead (resolve/masq.h). */
        unsigned long libvirt_version;
        /* Called with each NIC put on podform's NAT network, and its MAC; may be NULL. */
        void (*masq_nic)(void *ud, const pf_vm *vm, const pf_iface *i, const pf_mac *mac);
        /* Where the pod network and constraints put each interface, and the boot options each
         * Network serves (resolve/attach.h); NULL: not resolved, such interfaces are errors. */
        const pf_attach_result *attach;
} pf_render_env;

#define PF_LIBVIRT_PASST 9001000UL
/* Whether the masquerade binding goes on podform's NAT network: libvirt is known to lack passt. */
static inline bool pf_render_masq_nat(const pf_render_env *env) {
        return env->libvirt_version && env->libvirt_version < PF_LIBVIRT_PASST;
}

typedef struct pf_renderer pf_renderer;

/* pf_renderer_new: assigns every VM interface of env->model its MAC first (explicit, else the
 * live one, else derived; derived MACs avoid every other MAC of the configuration). env and
 * what it points to must outlive the renderer. */
pf_renderer *pf_renderer_new(const pf_render_env *env);
void pf_renderer_free(pf_renderer *r);

xmlDocPtr pf_render_network(const pf_network *n);
/* The same, serving `bootp` (may be NULL) on its ips[bootp->ip_index] when the Network
 * declares no bootp of its own (podform.yaml(5): the interfaces' bootFileName/tftpServerName). */
xmlDocPtr pf_render_network_bootp(const pf_network *n, const pf_bootp *bootp);
xmlDocPtr pf_render_pool(const pf_pool *p);
xmlDocPtr pf_render_volume(const char *name, uint64_t capacity, pf_disk_format format);
/* pf_render_domain: NULL, with positioned errors in d, when the VM cannot be rendered (a
 * feature of a later release, an sriov interface that is not a PCI device, a pod-network or
 * constraints interface env->attach did not place, ...). */
xmlDocPtr pf_render_domain(pf_renderer *r, const pf_vm *vm, pf_diags *d);
/* The same, and its text in *xml (malloc'd, as pf_xml_dump writes it): one serialization. */
xmlDocPtr pf_render_domain_text(pf_renderer *r, const pf_vm *vm, pf_diags *d, char **xml);

/* The storage pool a disk lives in (disk.pool, else Host.defaultStoragePool). */
const char *pf_disk_pool(const pf_render_env *env, const pf_disk *disk);
/* "<vm>-<disk>", the volume backing a VM disk. */
char *pf_volume_name(pf_arena *a, const char *vm, const char *disk);
/* A stable locally administered MAC, 52:54:00:xx:xx:xx, from host, VM and interface name;
 * `attempt` > 0 gives the alternatives used to avoid collisions. */
void pf_derive_mac(const char *host, const char *vm, const char *iface, unsigned attempt, pf_mac *ret);
/* The vCPU count of a VM: sockets x cores x threads. */
unsigned pf_vm_vcpus(const pf_vm *vm);
/* The names podform gives a VM's disks, in order: vda, vdb, ... on virtio, sda, ... shared by
 * sata and scsi, hda, ... on ide, skipping the names `taken` (may be NULL) says another disk of
 * `vm` holds. Start from a zeroed namer. */
typedef struct pf_disk_namer { size_t next[3]; } pf_disk_namer;
void pf_disk_next_name(pf_disk_namer *n, pf_disk_bus bus, const char *vm,
                       bool (*taken)(void *ud, const char *vm, const char *dev), void *ud, char *buf, size_t size);
/* pf_xml_dump: the document as a malloc'd string (no XML declaration). */
char *pf_xml_dump(xmlDocPtr doc);
