/* fields.h: the fields podform owns, read from libvirt XML. The same functions read the desired
 * documents (render.h) and the live ones, so both sides are normalised alike: a value libvirt
 * writes differently (a netmask for a prefix, upper-case MACs, "pc" for "pc-i440fx-7.2") reads
 * the same, and whatever is not read here (UUIDs, controllers, assigned addresses) is never
 * compared. */
#pragma once
#include <libxml/tree.h>

#include "engine/obj.h"

/* The canonical machine type for an alias ("pc" -> "pc-i440fx-7.2"), or the name itself. */
typedef const char *pf_canon_machine_fn(void *ud, const char *arch, const char *machine);

void pf_lv_network_fields(xmlDocPtr doc, pf_fields *b);
/* The prefix length of an IPv4 netmask ("255.255.255.0" -> 24); 0 when it is none. */
unsigned pf_lv_netmask_prefix(const char *mask);
void pf_lv_pool_fields(xmlDocPtr doc, pf_fields *b);
/* The bytes of one libvirt size unit ("KiB", "G", "bytes"; unknown: 1). */
unsigned long long pf_lv_unit_scale(const char *unit);
/* A PCI <address> element as "DDDD:BB:SS.F", in t. */
const char *pf_lv_pci_text(pf_arena *t, xmlNodePtr addr);
void pf_lv_volume_fields(xmlDocPtr doc, const char *pool, pf_fields *b);
/* Interfaces are named by the podform metadata of `doc`, else by that of `names` (the desired
 * document, for a domain podform did not create); an interface named by neither is someone
 * else's and only reported, never changed. */
void pf_lv_domain_fields(xmlDocPtr doc, xmlDocPtr names, pf_canon_machine_fn *canon, void *ud, pf_fields *b);
/* What the domain's own podform record says that is no device: the addresses constraints gave
 * its interfaces (podform.yaml(5)), as fields "ip[IFACE]" that land live. Of a running domain, read
 * from its running definition: a live update that failed shows as a difference, and the next
 * apply makes it again. */
void pf_lv_domain_record_fields(xmlDocPtr doc, pf_fields *b);

/* The podform metadata of a domain document: whether it has any, and its recorded interface
 * MACs and disk volumes. */
xmlNodePtr pf_lv_domain_metadata(xmlDocPtr doc);
/* The same, only when it was made for this domain (names it): a copy of a VM made with
 * virt-clone or `virsh dumpxml | define` carries its original's, which is not podform's record
 * of the copy. NULL otherwise. */
xmlNodePtr pf_lv_domain_record(xmlDocPtr doc);

/* Whether a <disk> is one of VM's own: a volume named VM-DISK (podform names its disks' volumes
 * so), as a disk, not a CD-ROM. */
bool pf_lv_disk_is_vms_volume(xmlNodePtr disk, const char *vm);
/* Whether a disk that is none of VM's own (a CD-ROM, a file added by hand) holds target `dev` in
 * doc: podform's disks then take the next name, as they stay beside it. */
bool pf_lv_disk_dev_taken(xmlDocPtr doc, const char *vm, const char *dev);

/* Where logSerialConsole: true has QEMU write VM's serial console (malloc'd): beside libvirt's own
 * log of the domain, in the system daemon's log directory. */
char *pf_lv_serial_log_path(const char *vm);

/* The interfaces a domain's podform metadata records, with where each is in `doc` (type
 * "bridge", "direct", "network", ...; NULL when the device is gone) and the address recorded
 * for it (NULL: none). */
typedef void pf_nic_fn(void *ud, const char *iface, const char *type, const char *source, const char *ip);
void pf_lv_domain_nics(xmlDocPtr doc, pf_nic_fn *fn, void *ud);
