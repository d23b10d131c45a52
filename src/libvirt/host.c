/* host.c: observe and change libvirt networks, pools, volumes and domains. */
#include "config.h"
#include "libvirt/host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "config/values.h"
#include "libvirt/fields.h"
#include "libvirt/merge.h"
#include "libvirt/owner.h"
#include "libvirt/render.h"
#include "model/names.h"
#include "util/cleanup.h"
#include "util/xalloc.h"
#include "util/xml.h"

/* A machine alias and what libvirt stores instead ("pc" -> "pc-i440fx-7.2"), per arch. */
typedef struct machine_alias { char *arch, *alias, *canonical; } machine_alias;

/* A live object's parsed definition, kept until the next build. */
/* running: the definition the VM runs with now, which may still use what the persistent
 * one dropped (a disk, until the next boot) */
typedef struct live_doc { pf_rkind kind; char *name; xmlDocPtr doc; bool autostart; xmlDocPtr running; } live_doc;

struct pf_lv_host {
        virConnectPtr conn;
        char *uri;
        pf_owner *owner;
        pf_lv_opts opts;
        pf_driver driver;
        unsigned long mutations;
        machine_alias *machines;
        size_t n_machines;
        bool machines_read;
        live_doc *docs;         /* live domains, for MACs and device XML */
        size_t n_docs, cap_docs;
        bool docs_sorted;
};

/* Every call that changes the host goes through here, so it can be counted. */
#define MUTATE(h, call) ((h)->mutations++, (call))

/* libvirt's last error as a sentence tail. */
static const char *lv_reason(void) {
        const virError *e = virGetLastError();
        return e && e->message ? e->message : "unknown libvirt error";
}

static char *lv_error(const char *what, const char *name) {
        return pf_xasprintf("%s %s: %s", what, name, lv_reason());
}

/* libvirt prints errors to stderr by default; podform reports them itself. */
static void quiet_errors(void *ud, virErrorPtr e) { (void) ud; (void) e; }

pf_lv_host *pf_lv_open(const char *uri, const char *state_dir, const pf_lv_opts *o, char **err) {
        virSetErrorFunc(NULL, quiet_errors);
        virConnectPtr conn = virConnectOpen(uri);
        if (!conn) {
                *err = pf_xasprintf("cannot connect to libvirt at %s: %s", uri, lv_reason());
                return NULL;
        }
        /* the test driver's host lives and dies with this process, so does its record */
        bool ephemeral = strncmp(uri, "test:", 5) == 0;
        pf_owner *owner = pf_owner_open(ephemeral ? NULL : state_dir, uri, err);
        if (!owner) {
                virConnectClose(conn);
                return NULL;
        }
        pf_lv_host *h = pf_xcalloc(1, sizeof(*h));
        h->conn = conn;
        h->uri = pf_xstrdup(uri);
        h->owner = owner;
        h->opts = *o;
        return h;
}

static void free_docs(pf_lv_host *h) {
        for (size_t i = 0; i < h->n_docs; i++) {
                free(h->docs[i].name);
                xmlFreeDoc(h->docs[i].doc);
                xmlFreeDoc(h->docs[i].running);
        }
        free(h->docs);
        h->docs = NULL;
        h->n_docs = h->cap_docs = 0;
}

void pf_lv_close(pf_lv_host *h) {
        if (!h)
                return;
        free_docs(h);
        for (size_t i = 0; i < h->n_machines; i++) {
                free(h->machines[i].arch);
                free(h->machines[i].alias);
                free(h->machines[i].canonical);
        }
        free(h->machines);
        pf_owner_free(h->owner);
        virConnectClose(h->conn);
        free(h->uri);
        free(h);
}

const char *pf_lv_uri(const pf_lv_host *h) { return h->uri; }
virConnectPtr pf_lv_conn(const pf_lv_host *h) { return h->conn; }
unsigned long pf_lv_mutations(const pf_lv_host *h) { return h->mutations; }
int pf_lv_save(pf_lv_host *h, char **err) { return pf_owner_save(h->owner, err); }

int pf_lv_node(pf_lv_host *h, unsigned *cpus, uint64_t *memory_kib, char **err) {
        virNodeInfo info;
        if (virNodeGetInfo(h->conn, &info) < 0) {
                *err = pf_xasprintf("cannot read the host's CPUs and memory: %s", lv_reason());
                return -1;
        }
        *cpus = info.cpus;
        *memory_kib = info.memory;
        return 0;
}

/* ---- machine aliases, from the capabilities ---- */

static void read_machines(pf_lv_host *h) {
        h->machines_read = true;
        char *caps = virConnectGetCapabilities(h->conn);
        _cleanup_xml_doc_ xmlDocPtr doc = caps ? pf_xml_parse(caps) : NULL;
        free(caps);
        if (!doc)
                return;
        for (xmlNodePtr g = xmlDocGetRootElement(doc)->children; g; g = g->next) {
                if (g->type != XML_ELEMENT_NODE || xmlStrcmp(g->name, BAD_CAST "guest"))
                        continue;
                for (xmlNodePtr a = g->children; a; a = a->next) {
                        if (a->type != XML_ELEMENT_NODE || xmlStrcmp(a->name, BAD_CAST "arch"))
                                continue;
                        xmlChar *arch = xmlGetProp(a, BAD_CAST "name");
                        for (xmlNodePtr m = a->children; m; m = m->next) {
                                if (m->type != XML_ELEMENT_NODE || xmlStrcmp(m->name, BAD_CAST "machine"))
                                        continue;
                                xmlChar *canon = xmlGetProp(m, BAD_CAST "canonical"), *alias = xmlNodeGetContent(m);
                                if (canon && alias && arch) {
                                        h->machines = pf_xreallocarray(h->machines, h->n_machines + 1, sizeof(*h->machines));
                                        h->machines[h->n_machines++] = (machine_alias) {
                                                pf_xstrdup((char *) arch), pf_xstrdup((char *) alias), pf_xstrdup((char *) canon) };
                                }
                                xmlFree(canon);
                                xmlFree(alias);
                        }
                        xmlFree(arch);
                }
        }
}

static const char *canon_machine(void *ud, const char *arch, const char *machine) {
        pf_lv_host *h = ud;
        if (!h->machines_read)
                read_machines(h);
        for (size_t i = 0; i < h->n_machines; i++)
                if (!strcmp(h->machines[i].arch, arch) && !strcmp(h->machines[i].alias, machine))
                        return h->machines[i].canonical;
        return machine;
}

/* ---- render callbacks ---- */

typedef struct build_ctx {
        pf_lv_host *h;
        pf_objset *have;
} build_ctx;

static int cmp_doc(const void *a, const void *b) {
        const live_doc *x = a, *y = b;
        if (x->kind != y->kind)
                return x->kind < y->kind ? -1 : 1;
        return strcmp(x->name, y->name);
}

static const live_doc *find_doc(pf_lv_host *h, pf_rkind kind, const char *name) {
        if (!h->docs_sorted) {
                if (h->n_docs)
                        qsort(h->docs, h->n_docs, sizeof(*h->docs), cmp_doc);
                h->docs_sorted = true;
        }
        live_doc key = { .kind = kind, .name = (char *) name };
        return h->n_docs ? bsearch(&key, h->docs, h->n_docs, sizeof(*h->docs), cmp_doc) : NULL;
}

/* The MAC an owned domain's podform metadata records for the interface. */
static const char *live_mac(void *ud, const char *vm, const char *iface) {
        build_ctx *b = ud;
        const pf_obj *o = pf_objset_find(b->have, PF_R_DOMAIN, vm);
        const live_doc *ld = o && o->owned ? find_doc(b->h, PF_R_DOMAIN, vm) : NULL;
        xmlNodePtr md = ld ? pf_lv_domain_metadata(ld->doc) : NULL;
        for (xmlNodePtr c = md ? md->children : NULL; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE || xmlStrcmp(c->name, BAD_CAST "interface"))
                        continue;
                xmlChar *name = xmlGetProp(c, BAD_CAST "name"), *mac = xmlGetProp(c, BAD_CAST "mac");
                const char *found = name && mac && !strcmp((char *) name, iface)
                                    ? pf_arena_strdup(&b->have->arena, (char *) mac) : NULL;
                xmlFree(name);
                xmlFree(mac);
                if (found)
                        return found;
        }
        return NULL;
}

static bool live_network(void *ud, const char *name) {
        build_ctx *b = ud;
        return pf_objset_find(b->have, PF_R_NETWORK, name) != NULL;
}

/* The PCI device behind a host network interface, from libvirt's node devices. */
static bool host_pci(void *ud, const char *ifname, pf_pci *ret) {
        build_ctx *b = ud;
        virNodeDevicePtr *devs = NULL;
        int n = virConnectListAllNodeDevices(b->h->conn, &devs, VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET);
        bool found = false;
        for (int i = 0; i < n; i++) {
                char *xml = found ? NULL : virNodeDeviceGetXMLDesc(devs[i], 0);
                xmlDocPtr doc = xml ? pf_xml_parse(xml) : NULL;
                free(xml);
                if (doc) {
                        xmlChar *parent = NULL, *iface = NULL;
                        for (xmlNodePtr c = xmlDocGetRootElement(doc)->children; c; c = c->next) {
                                if (c->type != XML_ELEMENT_NODE)
                                        continue;
                                if (!xmlStrcmp(c->name, BAD_CAST "parent") && !parent)
                                        parent = xmlNodeGetContent(c);
                                if (!xmlStrcmp(c->name, BAD_CAST "capability"))
                                        for (xmlNodePtr d = c->children; d; d = d->next)
                                                if (d->type == XML_ELEMENT_NODE && !xmlStrcmp(d->name, BAD_CAST "interface") && !iface)
                                                        iface = xmlNodeGetContent(d);
                        }
                        unsigned dom, bus, slot, fn;
                        if (iface && parent && !strcmp((char *) iface, ifname) &&
                            sscanf((char *) parent, "pci_%x_%x_%x_%x", &dom, &bus, &slot, &fn) == 4) {
                                *ret = (pf_pci) { (uint16_t) dom, (uint8_t) bus, (uint8_t) slot, (uint8_t) fn };
                                found = true;
                        }
                        xmlFree(parent);
                        xmlFree(iface);
                        xmlFreeDoc(doc);
                }
                virNodeDeviceFree(devs[i]);
        }
        free(devs);
        virResetLastError();
        return found;
}

/* ---- observe ---- */

static void keep_doc(pf_lv_host *h, pf_rkind kind, const char *name, xmlDocPtr doc, bool autostart) {
        if (h->n_docs == h->cap_docs)
                h->docs = pf_xreallocarray(h->docs, h->cap_docs = h->cap_docs ? 2 * h->cap_docs : 64, sizeof(*h->docs));
        h->docs_sorted = false;
        h->docs[h->n_docs++] = (live_doc) { kind, pf_xstrdup(name), doc, autostart, NULL };
}

static void add_state(pf_fields *fb, int active, int autostart) {
        pf_field_add(fb, PF_LAND_LIVE, PF_FIELD_STOPS, active ? "yes" : "no", "active");
        pf_field_add(fb, PF_LAND_LIVE, 0, autostart ? "yes" : "no", "autostart");
}

static int observe_pools(pf_lv_host *h, pf_objset *have, pf_fields *fb, char **err) {
        virStoragePoolPtr *pools = NULL;
        int n = virConnectListAllStoragePools(h->conn, &pools, 0);
        if (n < 0) {
                *err = pf_xasprintf("cannot list storage pools: %s", lv_reason());
                return -1;
        }
        for (int i = 0; i < n; i++) {
                virStoragePoolPtr p = pools[i];
                const char *name = virStoragePoolGetName(p);
                char uuid[VIR_UUID_STRING_BUFLEN];
                char *xml = virStoragePoolGetXMLDesc(p, VIR_STORAGE_XML_INACTIVE);
                if (!xml) /* the test driver knows no flags */
                        xml = virStoragePoolGetXMLDesc(p, 0);
                xmlDocPtr doc = xml ? pf_xml_parse(xml) : NULL;
                int active = virStoragePoolIsActive(p), autostart = 0;
                if (!doc || virStoragePoolGetUUIDString(p, uuid) < 0 || active < 0 ||
                    virStoragePoolGetAutostart(p, &autostart) < 0) {
                        /* gone while we looked: it is simply not there */
                        free(xml);
                        xmlFreeDoc(doc);
                        continue;
                }
                size_t idx = have->objs.n;
                pf_obj *o = pf_objset_add(have, PF_R_POOL, name);
                o->xml = pf_arena_strdup(&have->arena, xml);
                o->uuid = pf_arena_strdup(&have->arena, uuid);
                o->active = active;
                o->owned = pf_owner_has(h->owner, PF_R_POOL, name, uuid);
                pf_lv_pool_fields(doc, fb);
                add_state(fb, active, autostart);
                pf_fields_finish(fb, &have->objs.v[idx]);
                free(xml);
                xmlFreeDoc(doc);
                if (!active)
                        continue;
                virStorageVolPtr *vols = NULL;
                int nv = virStoragePoolListAllVolumes(p, &vols, 0);
                for (int j = 0; j < nv; j++) {
                        char *vx = virStorageVolGetXMLDesc(vols[j], 0);
                        xmlDocPtr vd = vx ? pf_xml_parse(vx) : NULL;
                        if (vd) {
                                char vname[512];
                                snprintf(vname, sizeof(vname), "%s/%s", name, virStorageVolGetName(vols[j]));
                                size_t vi = have->objs.n;
                                pf_obj *vo = pf_objset_add(have, PF_R_VOLUME, vname);
                                vo->active = true;
                                const char *key = virStorageVolGetKey(vols[j]);
                                vo->owned = key && pf_owner_has(h->owner, PF_R_VOLUME, vname, key);
                                pf_lv_volume_fields(vd, name, fb);
                                pf_fields_finish(fb, vo);
                                vo = &have->objs.v[vi];
                                const pf_field *cap = pf_obj_field(vo, "capacity");
                                vo->size = cap ? strtoull(cap->value, NULL, 10) : 0;
                        }
                        free(vx);
                        xmlFreeDoc(vd);
                        virStorageVolFree(vols[j]);
                }
                free(vols);
        }
        for (int i = 0; i < n; i++)
                virStoragePoolFree(pools[i]);
        free(pools);
        return 0;
}

static char *network_xml(virNetworkPtr net) {
        char *xml = virNetworkGetXMLDesc(net, VIR_NETWORK_XML_INACTIVE);
        if (!xml) /* the test driver knows no flags; its networks have one definition */
                xml = virNetworkGetXMLDesc(net, 0);
        return xml;
}

static int observe_networks(pf_lv_host *h, pf_objset *have, pf_fields *fb, char **err) {
        virNetworkPtr *nets = NULL;
        int n = virConnectListAllNetworks(h->conn, &nets, 0);
        if (n < 0) {
                *err = pf_xasprintf("cannot list networks: %s", lv_reason());
                return -1;
        }
        for (int i = 0; i < n; i++) {
                virNetworkPtr net = nets[i];
                char uuid[VIR_UUID_STRING_BUFLEN];
                char *xml = network_xml(net);
                xmlDocPtr doc = xml ? pf_xml_parse(xml) : NULL;
                int active = virNetworkIsActive(net), autostart = 0;
                if (doc && virNetworkGetUUIDString(net, uuid) == 0 && active >= 0 &&
                    virNetworkGetAutostart(net, &autostart) == 0) {
                        const char *name = virNetworkGetName(net);
                        size_t idx = have->objs.n;
                        pf_obj *o = pf_objset_add(have, PF_R_NETWORK, name);
                        o->xml = pf_arena_strdup(&have->arena, xml);
                        o->uuid = pf_arena_strdup(&have->arena, uuid);
                        o->active = active;
                        o->owned = pf_owner_has(h->owner, PF_R_NETWORK, name, uuid);
                        pf_lv_network_fields(doc, fb);
                        add_state(fb, active, autostart);
                        pf_fields_finish(fb, &have->objs.v[idx]);
                }
                free(xml);
                xmlFreeDoc(doc);
                virNetworkFree(net);
        }
        free(nets);
        return 0;
}

/* Domains are listed first and read later: their interface names may come from the desired
 * definition (a domain declared but not created by podform). */
static int list_domains(pf_lv_host *h, pf_objset *have, char **err) {
        virDomainPtr *doms = NULL;
        int n = virConnectListAllDomains(h->conn, &doms, 0);
        if (n < 0) {
                *err = pf_xasprintf("cannot list domains: %s", lv_reason());
                return -1;
        }
        for (int i = 0; i < n; i++) {
                virDomainPtr dom = doms[i];
                char uuid[VIR_UUID_STRING_BUFLEN];
                char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
                xmlDocPtr doc = xml ? pf_xml_parse(xml) : NULL;
                /* transient domains too: they use networks and volumes, CPUs and memory */
                int active = virDomainIsActive(dom), autostart = 0;
                if (doc && virDomainGetUUIDString(dom, uuid) == 0 && active >= 0 &&
                    virDomainGetAutostart(dom, &autostart) == 0) {
                        const char *name = virDomainGetName(dom);
                        pf_obj *o = pf_objset_add(have, PF_R_DOMAIN, name);
                        o->xml = pf_arena_strdup(&have->arena, xml);
                        o->uuid = pf_arena_strdup(&have->arena, uuid);
                        o->active = active;
                        o->owned = pf_lv_domain_record(doc) != NULL;       /* a copy carries its original's */
                        keep_doc(h, PF_R_DOMAIN, name, TAKE_PTR(doc), autostart);
                        if (active) {
                                char *run = virDomainGetXMLDesc(dom, 0);
                                h->docs[h->n_docs - 1].running = run ? pf_xml_parse(run) : NULL;
                                free(run);
                        }
                }
                free(xml);
                xmlFreeDoc(doc);
                virDomainFree(dom);
        }
        free(doms);
        return 0;
}

/* QEMU runs memory rounded up to whole MiB; the persistent definition keeps what was asked. */
static bool same_memory(const pf_field *a, const pf_field *b) {
        if (strcmp(a->key, "memory"))
                return false;
        unsigned long long x = strtoull(a->value, NULL, 10), y = strtoull(b->value, NULL, 10);
        return (x + 1023) / 1024 == (y + 1023) / 1024;
}

/* Whether the running definition matches the persistent one on what lands at restart: a
 * difference is a change applied to the definition that waits for the next boot. */
static bool same_boot_fields(const pf_fields *persistent, const pf_fields *running) {
        for (size_t i = 0; i < persistent->n; i++) {
                const pf_field *p = &persistent->v[i];
                if (p->landing != PF_LAND_RESTART || (p->flags & PF_FIELD_SPARSE))
                        continue;
                bool found = false;
                for (size_t j = 0; j < running->n && !found; j++)
                        if (!strcmp(running->v[j].key, p->key)) {
                                if (strcmp(running->v[j].value, p->value) && !same_memory(p, &running->v[j]))
                                        return false;
                                found = true;
                        }
                if (!found)
                        return false;
        }
        return true;
}

/* Fields of live domains, once the desired documents (for names) exist. */
static void read_domains(pf_lv_host *h, pf_objset *have, const pf_objset *want, xmlDocPtr *want_docs, pf_fields *fb) {
        for (size_t i = 0; i < have->objs.n; i++) {
                pf_obj *o = &have->objs.v[i];
                if (o->kind != PF_R_DOMAIN)
                        continue;
                const live_doc *ld = find_doc(h, PF_R_DOMAIN, o->name);
                xmlDocPtr names = NULL;
                const pf_obj *w = pf_objset_find(want, PF_R_DOMAIN, o->name);
                if (w)
                        names = want_docs[w - want->objs.v];
                pf_lv_domain_fields(ld->doc, names, canon_machine, h, fb);
                pf_lv_domain_record_fields(ld->running ? ld->running : ld->doc, fb);
                if (ld->running) {
                        /* what the running VM uses counts as used, not only what it will boot with */
                        pf_fields run;
                        pf_fields_init(&run, &have->arena);
                        pf_lv_domain_fields(ld->running, names, canon_machine, h, &run);
                        for (size_t k = 0; k < run.n_needs; k++)
                                pf_need_add(fb, run.needs[k].kind, run.needs[k].name);
                        o->stale = !same_boot_fields(fb, &run);
                        pf_fields_free(&run);
                }
                pf_field_add(fb, PF_LAND_LIVE, PF_FIELD_STOPS, o->active ? "yes" : "no", "running");
                pf_field_add(fb, PF_LAND_LIVE, 0, ld->autostart ? "yes" : "no", "autostart");
                pf_fields_finish(fb, o);
        }
}

/* ---- desired ---- */

static bool declared_network(const pf_model *m, const char *name) {
        for (size_t i = 0; i < m->networks.n; i++)
                if (!strcmp(m->networks.v[i].meta.name, name))
                        return true;
        return false;
}

static bool declared_pool(const pf_model *m, const char *name) {
        for (size_t i = 0; i < m->pools.n; i++)
                if (!strcmp(m->pools.v[i].meta.name, name))
                        return true;
        return false;
}

/* References to libvirt objects must resolve, declared or live: a VM must not be planned
 * onto a network or a pool that is not there. */
static void check_references(const pf_model *m, const pf_objset *have, const pf_host *host, pf_diags *d) {
        for (size_t i = 0; i < m->vms.n; i++) {
                const pf_vm *vm = &m->vms.v[i];
                for (size_t k = 0; k < vm->networks.n; k++) {
                        const pf_vm_net *n = &vm->networks.v[k];
                        if (n->backend == PF_BACKEND_NETWORK && !declared_network(m, n->network) &&
                            !pf_objset_find(have, PF_R_NETWORK, n->network))
                                pf_error(d, n->network_loc, "network '%s' is neither declared nor defined in libvirt on this "
                                         "host; declare a Network of that name, or name an existing one", n->network);
                }
                for (size_t k = 0; k < vm->disks.n; k++) {
                        const pf_disk *disk = &vm->disks.v[k];
                        const char *pool = disk->pool ? disk->pool : host->default_storage_pool;
                        if ((!disk->size && !pf_loc_set(disk->size_loc)) || declared_pool(m, pool) ||
                            pf_objset_find(have, PF_R_POOL, pool))
                                continue;
                        if (disk->pool)
                                pf_error(d, disk->pool_loc, "storage pool '%s' is neither declared nor defined in libvirt on "
                                         "this host; declare a StoragePool of that name, or name an existing one", pool);
                        else
                                pf_error(d, disk->loc, "disk '%s' goes to the host's default storage pool '%s', which is "
                                         "neither declared nor defined in libvirt; declare it, give the disk a pool, or set "
                                         "Host.spec.defaultStoragePool", disk->name, pool);
                }
        }
}

/* ---- what the rules of spec 3.1 and 3.2 need to know of the host ---- */

/* A live network as rule (a)/(b) sees it: from the fields observing read (fields.c). */
static void network_fact(pf_arena *a, const pf_obj *o, pf_net_fact *f) {
        *f = (pf_net_fact) { .name = o->name, .active = o->active, .owned = o->owned };
        const pf_field *mode = pf_obj_field(o, "forward"), *br = pf_obj_field(o, "bridge"),
                       *devs = pf_obj_field(o, "forward.interfaces");
        int fwd = mode ? pf_enum_lookup(&pf_forward_enum, mode->value) : -1;
        f->managed = fwd >= 0 && pf_forward_own_bridge((pf_forward) fwd);
        f->bridge = br ? br->value : NULL;
        size_t n = devs ? 1 : 0;
        for (const char *c = devs ? devs->value : ""; *c; c++)
                n += *c == ',';
        const char **v = pf_arena_array(a, n + 1, sizeof(*v));
        for (const char *c = devs ? devs->value : NULL; c; c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL)
                v[f->n_devs++] = pf_arena_strndup(a, c, strcspn(c, ","));
        f->devs = v;
        for (size_t i = 0; i < o->fields.n; i++) {
                const char *k = o->fields.v[i].key;
                size_t len = strlen(k);
                f->dhcp |= !strncmp(k, "ip[", 3) && len > 6 && !strcmp(k + len - 6, "].dhcp");
        }
}

typedef struct nic_list {
        pf_arena *arena;
        const char *vm;
        pf_nic_fact *v;
        size_t n, cap;
} nic_list;

static void add_nic(void *ud, const char *iface, const char *type, const char *source, const char *ip) {
        nic_list *l = ud;
        if (l->n == l->cap)
                l->v = pf_xreallocarray(l->v, l->cap = l->cap ? 2 * l->cap : 16, sizeof(*l->v));
        pf_nic_fact *x = &l->v[l->n++];
        *x = (pf_nic_fact) { .vm = l->vm, .iface = pf_arena_strdup(l->arena, iface),
                             .type = type ? pf_arena_strdup(l->arena, type) : NULL,
                             .source = source ? pf_arena_strdup(l->arena, source) : NULL };
        x->has_ip = ip && !pf_parse_ip(ip, &x->ip);
}

/* Runs the rules on the observed host; the facts live in have's arena. */
static void resolve(pf_lv_host *h, const pf_lv_env *env, pf_objset *have, pf_attach_result *ar, pf_diags *d) {
        size_t n_nets = 0;
        for (size_t i = 0; i < have->objs.n; i++)
                n_nets += have->objs.v[i].kind == PF_R_NETWORK;
        pf_net_fact *nets = pf_xcalloc(n_nets + 1, sizeof(*nets));
        n_nets = 0;
        for (size_t i = 0; i < have->objs.n; i++)
                if (have->objs.v[i].kind == PF_R_NETWORK)
                        network_fact(&have->arena, &have->objs.v[i], &nets[n_nets++]);
        nic_list nics = { .arena = &have->arena };
        for (size_t i = 0; i < h->n_docs; i++) {
                const pf_obj *o = pf_objset_find(have, PF_R_DOMAIN, h->docs[i].name);
                if (h->docs[i].kind != PF_R_DOMAIN || !o || !o->owned)
                        continue;
                nics.vm = o->name;
                /* where its interfaces are now: the running definition, when it runs */
                pf_lv_domain_nics(h->docs[i].running ? h->docs[i].running : h->docs[i].doc, add_nic, &nics);
        }
        pf_attach_facts facts = { .networks = nets, .n_networks = n_nets, .nics = nics.v, .n_nics = nics.n,
                                  .links = env->links,
                                  .prune = env->prune };
        pf_attach_resolve(env->model, env->host, &facts, ar, d);
        free(nets);
        free(nics.v);
}

static size_t add_want(pf_objset *want, pf_rkind kind, const char *name, xmlDocPtr doc, pf_loc loc) {
        size_t idx = want->objs.n;
        pf_obj *o = pf_objset_add(want, kind, name);
        char *xml = pf_xml_dump(doc);
        o->xml = pf_arena_strdup(&want->arena, xml);
        free(xml);
        o->loc = loc;
        o->active = true;
        return idx;
}

int pf_lv_build(pf_lv_host *h, const pf_lv_env *env, pf_objset *want, pf_objset *have, pf_diags *d, char **err) {
        free_docs(h);
        pf_fields fb;
        pf_fields_init(&fb, &have->arena);
        int r = observe_pools(h, have, &fb, err);
        if (r == 0)
                r = observe_networks(h, have, &fb, err);
        if (r == 0)
                r = list_domains(h, have, err);
        if (r < 0) {
                pf_fields_free(&fb);
                return -1;
        }
        pf_objset_index(have);

        build_ctx bctx = { h, have };
        const pf_model *m = env->model;
        pf_attach_result local = { 0 };
        pf_attach_result *ar = env->attach ? env->attach : &local;
        pf_attach_free(ar);
        resolve(h, env, have, ar, d);
        pf_fields wb;
        pf_fields_init(&wb, &want->arena);
        for (size_t i = 0; i < m->pools.n; i++) {
                const pf_pool *p = &m->pools.v[i];
                xmlDocPtr doc = pf_render_pool(p);
                size_t idx = add_want(want, PF_R_POOL, p->meta.name, doc, p->meta.name_loc);
                pf_lv_pool_fields(doc, &wb);
                add_state(&wb, 1, p->autostart);
                pf_fields_finish(&wb, &want->objs.v[idx]);
                xmlFreeDoc(doc);
        }
        for (size_t i = 0; i < m->networks.n; i++) {
                const pf_network *n = &m->networks.v[i];
                xmlDocPtr doc = pf_render_network_bootp(n, pf_attach_bootp(ar, n));
                size_t idx = add_want(want, PF_R_NETWORK, n->meta.name, doc, n->meta.name_loc);
                want->objs.v[idx].active = n->active;
                pf_lv_network_fields(doc, &wb);
                add_state(&wb, n->active, n->autostart);
                pf_fields_finish(&wb, &want->objs.v[idx]);
                xmlFreeDoc(doc);
        }
        check_references(m, have, env->host, d);
        pf_render_env renv = { .host_name = env->host_name, .host = env->host, .model = m, .live_mac = live_mac,
                               .live_network = live_network, .host_pci = host_pci, .ud = &bctx,
                               .links = env->links, .attach = ar };
        if (virConnectGetLibVersion(h->conn, &renv.libvirt_version) < 0)
                renv.libvirt_version = 0;
        pf_renderer *rd = pf_renderer_new(&renv);
        for (size_t i = 0; i < m->vms.n; i++) {
                const pf_vm *vm = &m->vms.v[i];
                for (size_t k = 0; k < vm->disks.n; k++) {
                        const pf_disk *disk = &vm->disks.v[k];
                        if (!disk->size && !pf_loc_set(disk->size_loc))
                                continue;       /* a KubeVirt volume: the renderer reports it */
                        const char *pool = pf_disk_pool(&renv, disk);
                        char *vol = pf_volume_name(&want->arena, vm->meta.name, disk->name);
                        xmlDocPtr doc = pf_render_volume(vol, disk->size, disk->format);
                        char name[512];
                        snprintf(name, sizeof(name), "%s/%s", pool, vol);
                        size_t idx = add_want(want, PF_R_VOLUME, name, doc,
                                              pf_loc_set(disk->size_loc) ? disk->size_loc : disk->loc);
                        pf_lv_volume_fields(doc, pool, &wb);
                        pf_fields_finish(&wb, &want->objs.v[idx]);
                        want->objs.v[idx].size = disk->size;
                        xmlFreeDoc(doc);
                }
        }
        /* the desired documents by object index: they name the interfaces of live domains */
        xmlDocPtr *want_docs = pf_xcalloc(want->objs.n + m->vms.n + 1, sizeof(*want_docs));
        for (size_t i = 0; i < m->vms.n; i++) {
                const pf_vm *vm = &m->vms.v[i];
                xmlDocPtr doc = pf_render_domain(rd, vm, d);
                if (!doc)
                        continue;
                size_t idx = add_want(want, PF_R_DOMAIN, vm->meta.name, doc, vm->meta.name_loc);
                want->objs.v[idx].active = vm->running;
                pf_lv_domain_fields(doc, NULL, canon_machine, h, &wb);
                /* a domain podform did not create gets no podform record (pf_lv_merge_domain) to hold a
                 * constraint address: only the plan's attachments show it */
                const pf_obj *live = pf_objset_find(have, PF_R_DOMAIN, vm->meta.name);
                if (!live || live->owned)
                        pf_lv_domain_record_fields(doc, &wb);
                pf_field_add(&wb, PF_LAND_LIVE, PF_FIELD_STOPS, vm->running ? "yes" : "no", "running");
                pf_field_add(&wb, PF_LAND_LIVE, 0, vm->autostart ? "yes" : "no", "autostart");
                pf_fields_finish(&wb, &want->objs.v[idx]);
                want_docs[idx] = doc;
        }
        pf_renderer_free(rd);
        pf_objset_index(want);

        read_domains(h, have, want, want_docs, &fb);
        for (size_t i = 0; i < want->objs.n; i++)
                xmlFreeDoc(want_docs[i]);
        free(want_docs);
        pf_fields_free(&fb);
        pf_fields_free(&wb);
        pf_attach_free(&local);
        return 0;
}

/* ---- apply ---- */

static const pf_change *find_change(const pf_action *a, const char *key) {
        for (size_t i = 0; i < a->changes.n; i++)
                if (!strcmp(a->changes.v[i].key, key))
                        return &a->changes.v[i];
        return NULL;
}

/* Whether any change is of a field that lands only by recreating the object. */
static bool needs_recreate(const pf_action *a) {
        for (size_t i = 0; i < a->changes.n; i++) {
                const char *key = a->changes.v[i].key;
                const pf_field *f = pf_obj_field(a->want, key);
                if (!f)
                        f = pf_obj_field(a->have, key);
                if (f && f->landing == PF_LAND_RECREATE)
                        return true;
        }
        return false;
}

static bool want_yes(const pf_action *a, const char *key) {
        const pf_field *f = pf_obj_field(a->want, key);
        return f && !strcmp(f->value, "yes");
}

static int wait_shutoff(pf_lv_host *h, virDomainPtr dom) {
        if (MUTATE(h, virDomainShutdown(dom)) == 0) {
                struct timespec step = { 0, 200 * 1000 * 1000 };
                for (unsigned i = 0; i < h->opts.shutdown_timeout * 5; i++) {
                        if (virDomainIsActive(dom) == 0)
                                return 0;
                        nanosleep(&step, NULL);
                }
        }
        if (virDomainIsActive(dom) == 0)
                return 0;
        /* the guest ignored ACPI (or has no OS): power it off */
        return MUTATE(h, virDomainDestroy(dom));
}

/* ---- pools ---- */

static int pool_create(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_pool_ virStoragePoolPtr p = MUTATE(h, virStoragePoolDefineXML(h->conn, a->want->xml, 0));
        if (!p) {
                *err = lv_error("cannot define storage pool", a->name);
                return -1;
        }
        char uuid[VIR_UUID_STRING_BUFLEN];
        if (virStoragePoolGetUUIDString(p, uuid) == 0)
                pf_owner_set(h->owner, PF_R_POOL, a->name, uuid);
        int r = 0;
        if (MUTATE(h, virStoragePoolBuild(p, 0)) < 0)
                *err = lv_error("cannot build (create the directory of) storage pool", a->name), r = -1;
        else if (a->want->active && MUTATE(h, virStoragePoolCreate(p, 0)) < 0)
                *err = lv_error("cannot start storage pool", a->name), r = -1;
        else if (want_yes(a, "autostart") && MUTATE(h, virStoragePoolSetAutostart(p, 1)) < 0)
                *err = lv_error("cannot mark storage pool for autostart", a->name), r = -1;
        if (r < 0) {
                /* all or nothing: the next run creates it again */
                if (virStoragePoolIsActive(p) == 1)
                        MUTATE(h, virStoragePoolDestroy(p));
                if (MUTATE(h, virStoragePoolUndefine(p)) == 0)
                        pf_owner_drop(h->owner, PF_R_POOL, a->name);
        }
        return r;
}

static int pool_change(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_pool_ virStoragePoolPtr p = virStoragePoolLookupByName(h->conn, a->name);
        if (!p) {
                *err = lv_error("cannot find storage pool", a->name);
                return -1;
        }
        int r = 0;
        bool active = a->have->active;
        /* type and path never change (plan errors): only the state does */
        if (r == 0 && a->want->active && !active && MUTATE(h, virStoragePoolCreate(p, 0)) < 0)
                *err = lv_error("cannot start storage pool", a->name), r = -1;
        if (r == 0 && !a->want->active && active && MUTATE(h, virStoragePoolDestroy(p)) < 0)
                *err = lv_error("cannot stop storage pool", a->name), r = -1;
        if (r == 0 && find_change(a, "autostart") &&
            MUTATE(h, virStoragePoolSetAutostart(p, want_yes(a, "autostart"))) < 0)
                *err = lv_error("cannot change autostart of storage pool", a->name), r = -1;
        return r;
}

static int pool_delete(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_pool_ virStoragePoolPtr p = virStoragePoolLookupByName(h->conn, a->name);
        if (!p) {
                *err = lv_error("cannot find storage pool", a->name);
                return -1;
        }
        int r = 0;
        /* the directory and anything left in it stay: only the libvirt object goes */
        if (virStoragePoolIsActive(p) == 1 && MUTATE(h, virStoragePoolDestroy(p)) < 0)
                *err = lv_error("cannot stop storage pool", a->name), r = -1;
        else if (MUTATE(h, virStoragePoolUndefine(p)) < 0)
                *err = lv_error("cannot undefine storage pool", a->name), r = -1;
        else
                pf_owner_drop(h->owner, PF_R_POOL, a->name);
        return r;
}

/* ---- volumes ("POOL/VOLUME") ---- */

static virStorageVolPtr find_volume(pf_lv_host *h, const char *id, virStoragePoolPtr *ret_pool) {
        char pool[256];
        const char *slash = strchr(id, '/');
        snprintf(pool, sizeof(pool), "%.*s", slash ? (int) (slash - id) : 0, id);
        *ret_pool = virStoragePoolLookupByName(h->conn, pool);
        if (!*ret_pool || !slash)
                return NULL;
        return virStorageVolLookupByName(*ret_pool, slash + 1);
}

/* The running VM that has volume "POOL/VOLUME" attached, and the disk's target there. */
static const live_doc *running_user_of(pf_lv_host *h, const char *id, char *dev, size_t size) {
        const char *slash = strchr(id, '/');
        if (!slash)
                return NULL;
        char pool[256];
        snprintf(pool, sizeof(pool), "%.*s", (int) (slash - id), id);
        for (size_t i = 0; i < h->n_docs; i++) {
                if (!h->docs[i].running)
                        continue;
                xmlNodePtr devices = pf_xml_child(xmlDocGetRootElement(h->docs[i].running), "devices");
                for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
                        xmlNodePtr src = pf_xml_is(c, "disk") ? pf_xml_child(c, "source") : NULL;
                        if (src && pf_xml_prop_eq(src, "pool", pool) && pf_xml_prop_eq(src, "volume", slash + 1)) {
                                xmlChar *t = xmlGetProp(pf_xml_child(c, "target"), BAD_CAST "dev");
                                snprintf(dev, size, "%s", t ? (const char *) t : "");
                                xmlFree(t);
                                return &h->docs[i];
                        }
                }
        }
        return NULL;
}

static int volume_apply(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_pool_ virStoragePoolPtr pool = NULL;
        virStorageVolPtr vol = find_volume(h, a->name, &pool);
        int r = 0;
        if (!pool) {
                *err = lv_error("cannot find the storage pool of volume", a->name);
                return -1;
        }
        if (a->op == PF_OP_CREATE) {
                virStorageVolPtr v = MUTATE(h, virStorageVolCreateXML(pool, a->want->xml, 0));
                if (!v)
                        *err = lv_error("cannot create volume", a->name), r = -1;
                else {
                        /* recorded, so it stays podform's after a VM stops listing it */
                        const char *key = virStorageVolGetKey(v);
                        if (key)
                                pf_owner_set(h->owner, PF_R_VOLUME, a->name, key);
                        virStorageVolFree(v);
                }
        } else if (!vol) {
                *err = lv_error("cannot find volume", a->name), r = -1;
        } else if (a->op == PF_OP_CHANGE) {
                const pf_change *c = find_change(a, "capacity");
                unsigned long long bytes = c && c->new_value ? strtoull(c->new_value, NULL, 10) : 0;
                char dev[64];
                const live_doc *user = bytes ? running_user_of(h, a->name, dev, sizeof(dev)) : NULL;
                if (user) {
                        /* QEMU holds the image: grow it through the running VM, which also tells the guest */
                        virDomainPtr d = virDomainLookupByName(h->conn, user->name);
                        if (!d || MUTATE(h, virDomainBlockResize(d, dev, bytes, VIR_DOMAIN_BLOCK_RESIZE_BYTES)) < 0)
                                *err = pf_xasprintf("cannot grow volume %s through running VM %s: %s", a->name, user->name,
                                                    lv_reason()), r = -1;
                        if (d)
                                virDomainFree(d);
                } else if (bytes && MUTATE(h, virStorageVolResize(vol, bytes, 0)) < 0) {
                        *err = lv_error("cannot grow volume", a->name), r = -1;
                }
        } else if (MUTATE(h, virStorageVolDelete(vol, 0)) < 0) {
                *err = lv_error("cannot delete volume", a->name), r = -1;
        } else {
                pf_owner_drop(h->owner, PF_R_VOLUME, a->name);
        }
        if (vol)
                virStorageVolFree(vol);
        return r;
}

/* ---- networks ---- */

static int network_create(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_network_ virNetworkPtr n = MUTATE(h, virNetworkDefineXML(h->conn, a->want->xml));
        if (!n) {
                *err = lv_error("cannot define network", a->name);
                return -1;
        }
        char uuid[VIR_UUID_STRING_BUFLEN];
        if (virNetworkGetUUIDString(n, uuid) == 0)
                pf_owner_set(h->owner, PF_R_NETWORK, a->name, uuid);
        int r = 0;
        if (want_yes(a, "autostart") && MUTATE(h, virNetworkSetAutostart(n, 1)) < 0)
                *err = lv_error("cannot mark network for autostart", a->name), r = -1;
        else if (a->want->active && MUTATE(h, virNetworkCreate(n)) < 0)
                *err = lv_error("cannot start network", a->name), r = -1;
        if (r < 0) {
                if (virNetworkIsActive(n) == 1)
                        MUTATE(h, virNetworkDestroy(n));
                if (MUTATE(h, virNetworkUndefine(n)) == 0)
                        pf_owner_drop(h->owner, PF_R_NETWORK, a->name);
        }
        return r;
}

/* The <ip> of a network document with this address, and its index among the <ip>s. */
static xmlNodePtr find_ip(xmlDocPtr doc, const char *addr, int *index) {
        int i = 0;
        for (xmlNodePtr c = xmlDocGetRootElement(doc)->children; c; c = c->next)
                if (pf_xml_is(c, "ip")) {
                        if (pf_xml_prop_eq(c, "address", addr)) {
                                *index = i;
                                return c;
                        }
                        i++;
                }
        return NULL;
}

/* The DHCP <range> or <host> of key "ip[A].dhcp.range[S]" / "ip[A].dhcp.host[M]". */
static xmlNodePtr find_dhcp_entry(xmlDocPtr doc, const char *key, int *ip_index, bool *is_host) {
        char addr[128], id[256];
        const char *p = strchr(key, '[');
        const char *q = p ? strchr(p, ']') : NULL;
        if (!q)
                return NULL;
        snprintf(addr, sizeof(addr), "%.*s", (int) (q - p - 1), p + 1);
        *is_host = strstr(q, ".dhcp.host[") != NULL;
        const char *r = strchr(q + 1, '[');
        if (!r)
                return NULL;
        snprintf(id, sizeof(id), "%s", r + 1);
        id[strcspn(id, "]")] = '\0';
        xmlNodePtr ip = find_ip(doc, addr, ip_index);
        for (xmlNodePtr c = pf_xml_child(pf_xml_child(ip, "dhcp"), *is_host ? "host" : "range"); c; c = c->next) {
                if (!pf_xml_is(c, *is_host ? "host" : "range"))
                        continue;
                if (*is_host ? pf_xml_prop_eq(c, "mac", id) || pf_xml_prop_eq(c, "name", id) : pf_xml_prop_eq(c, "start", id))
                        return c;
        }
        return NULL;
}

static char *node_xml(xmlDocPtr doc, xmlNodePtr n) {
        xmlBufferPtr buf = xmlBufferCreate();
        xmlNodeDump(buf, doc, n, 0, 0);
        char *s = pf_xstrdup((const char *) xmlBufferContent(buf));
        xmlBufferFree(buf);
        return s;
}

/* DHCP hosts and ranges change in place, through virNetworkUpdate: dnsmasq reloads, guests
 * keep their link. Every old entry goes first, then the new ones are added: an entry that
 * moves its address, name or MAC to another would collide with it otherwise, and libvirt's
 * MODIFY picks the first entry matching any of the three, which may be the wrong one. */
static int network_update_dhcp(pf_lv_host *h, virNetworkPtr n, const pf_action *a, char **err) {
        _cleanup_xml_doc_ xmlDocPtr want = pf_xml_parse(a->want->xml), have = pf_xml_parse(a->have->xml);
        unsigned flags = VIR_NETWORK_UPDATE_AFFECT_CONFIG | (a->have->active ? VIR_NETWORK_UPDATE_AFFECT_LIVE : 0);
        int r = 0;
        for (int adding = 0; adding < 2 && r == 0 && want && have; adding++) {
                for (size_t i = 0; i < a->changes.n && r == 0; i++) {
                        const pf_change *c = &a->changes.v[i];
                        if (!strstr(c->key, ".dhcp.host[") && !strstr(c->key, ".dhcp.range["))
                                continue;
                        if (!(adding ? c->new_value : c->old_value))
                                continue;
                        int index = 0;
                        bool is_host = false;
                        xmlDocPtr doc = adding ? want : have;
                        xmlNodePtr entry = find_dhcp_entry(doc, c->key, &index, &is_host);
                        if (!entry)
                                continue;
                        _cleanup_free_ char *x = node_xml(doc, entry);
                        int section = is_host ? VIR_NETWORK_SECTION_IP_DHCP_HOST : VIR_NETWORK_SECTION_IP_DHCP_RANGE;
                        unsigned cmd = adding ? VIR_NETWORK_UPDATE_COMMAND_ADD_LAST : VIR_NETWORK_UPDATE_COMMAND_DELETE;
                        if (MUTATE(h, virNetworkUpdate(n, cmd, section, index, x, flags)) < 0) {
                                *err = pf_xasprintf("cannot %s %s of network %s in place: %s", adding ? "add" : "remove",
                                                    c->key, a->name, lv_reason());
                                r = -1;
                        }
                }
        }
        return r;
}

static int network_change(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_network_ virNetworkPtr n = virNetworkLookupByName(h->conn, a->name);
        if (!n) {
                *err = lv_error("cannot find network", a->name);
                return -1;
        }
        int r = 0;
        bool active = a->have->active;
        if (needs_recreate(a)) {
                _cleanup_free_ char *xml = pf_lv_merge_network(a->want->xml, a->have->xml);
                virNetworkPtr nn = NULL;
                /* stop, then define: an inactive network takes the new definition at once on
                 * every driver (an active one may keep the old one until it restarts) */
                if (active && MUTATE(h, virNetworkDestroy(n)) < 0)
                        *err = lv_error("cannot stop network (to restart it)", a->name), r = -1;
                else if (!(nn = MUTATE(h, virNetworkDefineXML(h->conn, xml)))) {
                        *err = lv_error("cannot redefine network", a->name), r = -1;
                        if (active)     /* put the old one back rather than leave guests cut off */
                                MUTATE(h, virNetworkCreate(n));
                } else
                        active = false;
                if (nn)
                        virNetworkFree(nn);
        } else {
                r = network_update_dhcp(h, n, a, err);
        }
        if (r == 0 && a->want->active && !active && MUTATE(h, virNetworkCreate(n)) < 0)
                *err = lv_error("cannot start network", a->name), r = -1;
        if (r == 0 && !a->want->active && active && MUTATE(h, virNetworkDestroy(n)) < 0)
                *err = lv_error("cannot stop network", a->name), r = -1;
        if (r == 0 && find_change(a, "autostart") && MUTATE(h, virNetworkSetAutostart(n, want_yes(a, "autostart"))) < 0)
                *err = lv_error("cannot change autostart of network", a->name), r = -1;
        return r;
}

static int network_delete(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_network_ virNetworkPtr n = virNetworkLookupByName(h->conn, a->name);
        if (!n) {
                *err = lv_error("cannot find network", a->name);
                return -1;
        }
        int r = 0;
        if (virNetworkIsActive(n) == 1 && MUTATE(h, virNetworkDestroy(n)) < 0)
                *err = lv_error("cannot stop network", a->name), r = -1;
        else if (MUTATE(h, virNetworkUndefine(n)) < 0)
                *err = lv_error("cannot undefine network", a->name), r = -1;
        else
                pf_owner_drop(h->owner, PF_R_NETWORK, a->name);
        return r;
}

/* ---- domains ---- */

static int domain_create(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_domain_ virDomainPtr d = MUTATE(h, virDomainDefineXML(h->conn, a->want->xml));
        if (!d) {
                *err = lv_error("cannot define VM", a->name);
                return -1;
        }
        int r = 0;
        if (want_yes(a, "autostart") && MUTATE(h, virDomainSetAutostart(d, 1)) < 0)
                *err = lv_error("cannot mark VM for autostart", a->name), r = -1;
        else if (a->want->active && MUTATE(h, virDomainCreate(d)) < 0)
                *err = lv_error("cannot start VM", a->name), r = -1;
        if (r < 0) {
                if (virDomainIsActive(d) == 1)
                        MUTATE(h, virDomainDestroy(d));
                MUTATE(h, virDomainUndefine(d));
        }
        return r;
}

/* The device element of the interface group "iface[NAME]" in a domain document. */
static xmlNodePtr find_interface(xmlDocPtr doc, const pf_obj *o, const char *key) {
        char mkey[512];
        size_t len = strcspn(key, "]");
        snprintf(mkey, sizeof(mkey), "%.*s].mac", (int) len, key);
        const pf_field *mac = pf_obj_field(o, mkey);
        xmlNodePtr devices = pf_xml_child(xmlDocGetRootElement(doc), "devices");
        for (xmlNodePtr c = devices ? devices->children : NULL; c && mac; c = c->next)
                if (pf_xml_is(c, "interface") && pf_xml_prop_eq(pf_xml_child(c, "mac"), "address", mac->value))
                        return c;
        return NULL;
}

/* Interfaces of a running VM, changed live and in the definition: a whole NIC added or
 * removed is a hot-plug; a NIC whose only change is its source network or bridge is moved in
 * place. Any other NIC change waits for the restart. */
static int domain_hotplug(pf_lv_host *h, virDomainPtr d, const pf_action *a, char **err) {
        _cleanup_xml_doc_ xmlDocPtr want = pf_xml_parse(a->want->xml), have = pf_xml_parse(a->have->xml);
        int r = 0;
        for (size_t i = 0; i < a->changes.n && r == 0 && want && have;) {
                const pf_change *first = &a->changes.v[i];
                size_t len = strcspn(first->key, "]");
                if (strncmp(first->key, "iface[", 6) || !first->key[len]) {
                        i++;
                        continue;
                }
                /* the changes of one NIC are adjacent: keys are sorted */
                bool added = true, removed = true, live = true;
                size_t end = i;
                for (; end < a->changes.n && !strncmp(a->changes.v[end].key, first->key, len + 1); end++) {
                        const pf_change *c = &a->changes.v[end];
                        added = added && !c->old_value;
                        removed = removed && !c->new_value;
                        live = live && c->landing == PF_LAND_LIVE;
                }
                i = end;
                if (!live)
                        continue;
                bool from_want = !removed;
                xmlDocPtr doc = from_want ? want : have;
                xmlNodePtr nic = find_interface(doc, from_want ? a->want : a->have, first->key);
                if (!nic)
                        continue;
                _cleanup_free_ char *x = node_xml(doc, nic);
                unsigned flags = VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG;
                const char *verb = added ? "hot-plug" : removed ? "hot-unplug" : "move";
                int ret = added ? MUTATE(h, virDomainAttachDeviceFlags(d, x, flags))
                          : removed ? MUTATE(h, virDomainDetachDeviceFlags(d, x, flags))
                                    : MUTATE(h, virDomainUpdateDeviceFlags(d, x, flags));
                if (ret < 0) {
                        *err = pf_xasprintf("cannot %s interface %.*s of VM %s: %s", verb, (int) (len - 6), first->key + 6,
                                      a->name, lv_reason());
                        r = -1;
                }
        }
        return r;
}

/* Whether a change touches what the podform metadata records and nothing reads from the
 * device (a constraint address, spec 3.2). */
static bool records_changed(const pf_action *a) {
        for (size_t i = 0; i < a->changes.n; i++)
                if (!strncmp(a->changes.v[i].key, "ip[", 3))
                        return true;
        return false;
}

/* libvirt puts the metadata element in its namespace itself, and refuses one that already
 * declares it. */
static void strip_ns(xmlNodePtr n) {
        for (; n; n = n->next) {
                if (n->type != XML_ELEMENT_NODE)
                        continue;
                n->ns = NULL;
                strip_ns(n->children);
        }
}

/* The running VM's copy of the podform metadata, so that it says what the definition says:
 * the change lands live. */
static int set_live_record(pf_lv_host *h, virDomainPtr d, const pf_action *a, char **err) {
        _cleanup_xml_doc_ xmlDocPtr want = pf_xml_parse(a->want->xml);
        xmlNodePtr md = want ? pf_lv_domain_metadata(want) : NULL;
        int r = 0;
        if (md) {
                xmlUnlinkNode(md);
                xmlFreeNode(xmlDocSetRootElement(want, md));    /* the rest of the domain */
                strip_ns(md);
                xmlFreeNsList(md->nsDef);
                md->nsDef = NULL;
                _cleanup_free_ char *x = node_xml(want, md);
                if (MUTATE(h, virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, x, PF_XMLNS_PREFIX, PF_XMLNS,
                                                   VIR_DOMAIN_AFFECT_LIVE)) < 0)
                        *err = lv_error("cannot record the addresses of running VM", a->name), r = -1;
        }
        return r;
}

static int domain_change(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_domain_ virDomainPtr d = virDomainLookupByName(h->conn, a->name);
        if (!d) {
                *err = lv_error("cannot find VM", a->name);
                return -1;
        }
        int r = 0;
        bool active = a->have->active;
        bool redefine = false;
        for (size_t i = 0; i < a->changes.n; i++)
                if (strcmp(a->changes.v[i].key, "running") && strcmp(a->changes.v[i].key, "autostart") &&
                    strcmp(a->changes.v[i].key, "restart"))
                        redefine = true;
        if (active && redefine)
                r = domain_hotplug(h, d, a, err);
        if (r == 0 && redefine) {
                _cleanup_free_ char *xml = pf_lv_merge_domain(a->want->xml, a->have->xml);
                virDomainPtr nd = xml ? MUTATE(h, virDomainDefineXML(h->conn, xml)) : NULL;
                if (!nd)
                        *err = lv_error("cannot redefine VM", a->name), r = -1;
                else
                        virDomainFree(nd);
        }
        if (r == 0 && active && a->have->owned && records_changed(a))
                r = set_live_record(h, d, a, err);
        if (r == 0 && active && (a->restart || !a->want->active)) {
                if (wait_shutoff(h, d) < 0)
                        *err = lv_error("cannot shut down VM", a->name), r = -1;
                else
                        active = false;
        }
        if (r == 0 && a->want->active && !active && MUTATE(h, virDomainCreate(d)) < 0)
                *err = lv_error("cannot start VM", a->name), r = -1;
        if (r == 0 && find_change(a, "autostart") && MUTATE(h, virDomainSetAutostart(d, want_yes(a, "autostart"))) < 0)
                *err = lv_error("cannot change autostart of VM", a->name), r = -1;
        return r;
}

static int domain_delete(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_domain_ virDomainPtr d = virDomainLookupByName(h->conn, a->name);
        if (!d) {
                *err = lv_error("cannot find VM", a->name);
                return -1;
        }
        int r = 0;
        if (virDomainIsActive(d) == 1 && wait_shutoff(h, d) < 0)
                *err = lv_error("cannot stop VM", a->name), r = -1;
        else if (MUTATE(h, virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                                                             VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)) < 0)
                *err = lv_error("cannot undefine VM", a->name), r = -1;
        return r;
}

static int apply_action(void *ctx, const pf_action *a, char **err) {
        pf_lv_host *h = ctx;
        virResetLastError();
        switch (a->kind) {
        case PF_R_POOL:
                return a->op == PF_OP_CREATE ? pool_create(h, a, err)
                       : a->op == PF_OP_CHANGE ? pool_change(h, a, err) : pool_delete(h, a, err);
        case PF_R_VOLUME:
                return volume_apply(h, a, err);
        case PF_R_NETWORK:
                return a->op == PF_OP_CREATE ? network_create(h, a, err)
                       : a->op == PF_OP_CHANGE ? network_change(h, a, err) : network_delete(h, a, err);
        case PF_R_DOMAIN:
                return a->op == PF_OP_CREATE ? domain_create(h, a, err)
                       : a->op == PF_OP_CHANGE ? domain_change(h, a, err) : domain_delete(h, a, err);
        default:
                *err = pf_xasprintf("no libvirt action for %s %s", pf_rkind_name(a->kind), a->name);
                return -1;
        }
}

const pf_driver *pf_lv_driver(pf_lv_host *h) {
        h->driver = (pf_driver) { "libvirt", apply_action, h };
        return &h->driver;
}
