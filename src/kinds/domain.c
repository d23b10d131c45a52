/* domain.c: the VirtualMachine kind. Domains are listed first and their fields read last
 * (finish): the names of a live domain's interfaces may come from its desired definition (a
 * domain declared but not created by podform). A running domain's interfaces change live
 * (hot-plug); what else changes lands at the next restart, or at once with --allow-restart. */
#include "config.h"
#include "kinds/domain.h"

#include <libvirt/virterror.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/values.h"
#include "kinds/libvirt_common.h"
#include "libvirt/conn.h"
#include "libvirt/fields.h"
#include "libvirt/merge.h"
#include "resolve/masq.h"
#include "util/cleanup.h"
#include "util/suggest.h"
#include "util/xml.h"

#define MUTATE PF_LV_MUTATE

/* ---- observe ---- */

/* ---- what later stages read of a live domain ---- */

/* A live domain once its fields are read: what the attachment rules, the renderer's callbacks,
 * show's owners and apply read of its documents, which are then freed (unless show keeps them). */
typedef struct rec_nic { const char *iface, *type, *source, *ip; } rec_nic;
typedef struct rec_mac { const char *iface, *mac; } rec_mac;
typedef struct run_disk { const char *pool, *volume, *dev; } run_disk;
typedef struct domain_facts {
        bool fields_read;               /* at observe: its own record names every interface */
        const char *type;               /* <domain type>, or NULL */
        rec_nic *nics;                  /* owned: where its recorded interfaces are now */
        size_t n_nics;
        rec_mac *macs;                  /* owned: the MACs its podform metadata records */
        size_t n_macs;
        const char **taken;             /* targets of disks that are none of its own volumes */
        size_t n_taken;
        const char **taps;              /* running: the targets of its direct interfaces */
        size_t n_taps;
        run_disk *disks;                /* running: its disks on pool volumes */
        size_t n_disks;
} domain_facts;

/* v with room for element n: arrays in an arena grow to capacities 4, 8, 16, ... */
static void *grow(pf_arena *a, void *v, size_t n, size_t size) {
        if (n && (n < 4 || (n & (n - 1))))
                return v;
        void *nv = pf_arena_array(a, n ? 2 * n : 4, size);
        if (n)
                memcpy(nv, v, n * size);
        return nv;
}

static const char *dup_or_null(pf_arena *a, const char *s) { return s ? pf_arena_strdup(a, s) : NULL; }

typedef struct facts_ctx { pf_arena *a; domain_facts *f; } facts_ctx;

static void fact_nic(void *ud, const char *iface, const char *type, const char *source, const char *ip) {
        facts_ctx *c = ud;
        domain_facts *f = c->f;
        f->nics = grow(c->a, f->nics, f->n_nics, sizeof(*f->nics));
        f->nics[f->n_nics++] = (rec_nic) { pf_arena_strdup(c->a, iface), dup_or_null(c->a, type),
                                           dup_or_null(c->a, source), dup_or_null(c->a, ip) };
}

static void read_facts(pf_arena *a, const char *vm, bool owned, const pf_lv_doc *ld, domain_facts *f) {
        xmlNodePtr root = xmlDocGetRootElement(ld->doc);
        _cleanup_xml_char_ xmlChar *type = xmlGetProp(root, BAD_CAST "type");
        f->type = dup_or_null(a, (const char *) type);
        if (owned) {
                facts_ctx c = { a, f };
                /* where its interfaces are now: the running definition, when it runs */
                pf_lv_domain_nics(ld->running ? ld->running : ld->doc, fact_nic, &c);
                xmlNodePtr md = pf_lv_domain_metadata(ld->doc);
                for (xmlNodePtr n = md ? md->children : NULL; n; n = n->next) {
                        if (!pf_xml_is(n, "interface"))
                                continue;
                        _cleanup_xml_char_ xmlChar *name = xmlGetProp(n, BAD_CAST "name"), *mac = xmlGetProp(n, BAD_CAST "mac");
                        if (!name || !mac)
                                continue;
                        f->macs = grow(a, f->macs, f->n_macs, sizeof(*f->macs));
                        f->macs[f->n_macs++] = (rec_mac) { pf_arena_strdup(a, (char *) name), pf_arena_strdup(a, (char *) mac) };
                }
        }
        xmlNodePtr devices = pf_xml_child(root, "devices");
        for (xmlNodePtr d = devices ? devices->children : NULL; d; d = d->next) {
                xmlNodePtr target = pf_xml_child(d, "target");
                if (!pf_xml_is(d, "disk") || !target || pf_lv_disk_is_vms_volume(d, vm))
                        continue;
                _cleanup_xml_char_ xmlChar *dev = xmlGetProp(target, BAD_CAST "dev");
                if (!dev)
                        continue;
                f->taken = grow(a, f->taken, f->n_taken, sizeof(*f->taken));
                f->taken[f->n_taken++] = pf_arena_strdup(a, (char *) dev);
        }
        devices = ld->running ? pf_xml_child(xmlDocGetRootElement(ld->running), "devices") : NULL;
        for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
                if (pf_xml_is(c, "interface") && pf_xml_prop_eq(c, "type", "direct")) {
                        const char *dev = pf_xml_prop(a, pf_xml_child(c, "target"), "dev");
                        if (*dev) {
                                f->taps = grow(a, f->taps, f->n_taps, sizeof(*f->taps));
                                f->taps[f->n_taps++] = dev;
                        }
                }
                xmlNodePtr src = pf_xml_is(c, "disk") ? pf_xml_child(c, "source") : NULL;
                _cleanup_xml_char_ xmlChar *pool = src ? xmlGetProp(src, BAD_CAST "pool") : NULL;
                _cleanup_xml_char_ xmlChar *volume = src ? xmlGetProp(src, BAD_CAST "volume") : NULL;
                if (pool && volume) {
                        f->disks = grow(a, f->disks, f->n_disks, sizeof(*f->disks));
                        f->disks[f->n_disks++] = (run_disk) { pf_arena_strdup(a, (char *) pool), pf_arena_strdup(a, (char *) volume),
                                                              pf_xml_prop(a, pf_xml_child(c, "target"), "dev") };
                }
        }
}

static void free_docs(pf_lv_doc *ld) {
        xmlFreeDoc(ld->doc);
        xmlFreeDoc(ld->running);
        ld->doc = ld->running = NULL;
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

/* Fields of one live domain, now that the desired documents (for names) exist. */
static void read_domain(pf_kind_ctx *k, pf_obj *o, const pf_lv_doc *ld, xmlDocPtr names, pf_arena *arena, pf_fields *fb) {
        pf_lv_domain_fields(ld->doc, names, pf_lv_canon_machine, k->lv, fb);
        pf_lv_domain_record_fields(ld->running ? ld->running : ld->doc, fb);
        if (ld->running) {
                /* what the running VM uses counts as used, not only what it will boot with */
                pf_fields run;
                pf_fields_init(&run, arena);
                pf_lv_domain_fields(ld->running, names, pf_lv_canon_machine, k->lv, &run);
                for (size_t r = 0; r < run.n_needs; r++)
                        pf_need_add(fb, run.needs[r].kind, run.needs[r].name);
                o->stale = !same_boot_fields(fb, &run);
                pf_fields_free(&run);
        }
        pf_field_add(fb, PF_LAND_LIVE, PF_FIELD_STOPS, o->active ? "yes" : "no", "running");
        pf_field_add(fb, PF_LAND_LIVE, 0, ld->autostart ? "yes" : "no", "autostart");
        pf_fields_finish(fb, o);
}

/* Run state and autostart of every domain, from two filtered list calls. */
typedef struct domain_states {
        pf_lv_names active, autostart;
} domain_states;

static void observe_one(pf_kind_ctx *k, virDomainPtr dom, const domain_states *st, pf_objset *have, pf_fields *fb) {
        char uuid[VIR_UUID_STRING_BUFLEN];
        const char *name = virDomainGetName(dom);
        _cleanup_free_ char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
        _cleanup_xml_doc_ xmlDocPtr doc = xml ? pf_xml_parse(xml) : NULL;
        /* transient domains too: they use networks and volumes, CPUs and memory */
        if (!doc || virDomainGetUUIDString(dom, uuid) != 0)
                return;
        bool active = pf_lv_names_has(&st->active, name);
        size_t idx = have->objs.n;
        pf_obj *o = pf_objset_add(have, PF_R_DOMAIN, name);
        o->uuid = pf_arena_strdup(&have->arena, uuid);
        o->active = active;
        o->owned = pf_lv_domain_record(doc) != NULL;       /* a copy carries its original's */
        pf_lv_doc *ld = pf_lv_doc_add(k->lv, PF_R_DOMAIN, name);
        ld->doc = TAKE_PTR(doc);
        ld->autostart = pf_lv_names_has(&st->autostart, name);
        if (active) {
                _cleanup_free_ char *run = virDomainGetXMLDesc(dom, 0);
                ld->running = run ? pf_xml_parse(run) : NULL;
        }
        domain_facts *f = pf_arena_alloc(pf_lv_docs_arena(k->lv), sizeof(*f));
        read_facts(pf_lv_docs_arena(k->lv), name, o->owned, ld, f);
        ld->facts = f;
        /* Its fields now, unless the desired definition must name some of its interfaces (a VM
         * podform did not create, a NIC added by hand): then in finish. */
        f->fields_read = pf_lv_domain_names_own(ld->doc) && (!ld->running || pf_lv_domain_names_own(ld->running));
        if (!f->fields_read)
                return;
        read_domain(k, &have->objs.v[idx], ld, NULL, &have->arena, fb);
        if (!pf_lv_keeps_docs(k->lv))
                free_docs(ld);
}

static int observe(const pf_kind_ops *self, pf_kind_ctx *k, pf_objset *have, char **err) {
        (void) self;
        pf_lv_docs_clear(k->lv);
        virDomainPtr *doms = NULL;
        int n = virConnectListAllDomains(pf_lv_conn(k->lv), &doms, 0);
        if (n < 0) {
                *err = pf_xasprintf("cannot list domains: %s", pf_lv_reason());
                return -1;
        }
        domain_states st = { 0 };
        int r = n == 0 ? 0 : pf_lv_list_names(k->lv, PF_LV_LIST_DOMAINS, VIR_CONNECT_LIST_DOMAINS_ACTIVE, &st.active, err);
        if (r == 0 && n)
                r = pf_lv_list_names(k->lv, PF_LV_LIST_DOMAINS, VIR_CONNECT_LIST_DOMAINS_AUTOSTART, &st.autostart, err);
        pf_fields fb;
        pf_fields_init(&fb, &have->arena);
        for (int i = 0; i < n; i++) {
                if (r == 0)
                        observe_one(k, doms[i], &st, have, &fb);
                virDomainFree(doms[i]);
        }
        free(doms);
        pf_fields_free(&fb);
        pf_lv_names_free(&st.active);
        pf_lv_names_free(&st.autostart);
        return r;
}

static void finish(const pf_kind_ops *self, pf_kind_ctx *k, pf_objset *have, const pf_objset *want) {
        (void) self, (void) want;
        pf_fields fb;
        pf_fields_init(&fb, &have->arena);
        for (size_t i = 0; i < have->objs.n; i++) {
                pf_obj *o = &have->objs.v[i];
                pf_lv_doc *ld = o->kind == PF_R_DOMAIN ? pf_lv_doc_find(k->lv, PF_R_DOMAIN, o->name) : NULL;
                const domain_facts *f = ld ? ld->facts : NULL;
                if (!f || f->fields_read)
                        continue;
                read_domain(k, o, ld, ld->desired, &have->arena, &fb);
                /* done with: 5,000 documents held through planning weigh 4 MB */
                xmlFreeDoc(ld->desired);
                ld->desired = NULL;
                if (!pf_lv_keeps_docs(k->lv))
                        free_docs(ld);
        }
        pf_fields_free(&fb);
}

/* ---- what the rules of podform.yaml(5), RESOLUTION need to know of the host ---- */

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

pf_nic_fact *pf_domain_nic_facts(pf_kind_ctx *k, pf_objset *have, size_t *n) {
        nic_list nics = { .arena = &have->arena };
        for (size_t i = 0; i < pf_lv_n_docs(k->lv); i++) {
                const pf_lv_doc *ld = pf_lv_doc_at(k->lv, i);
                const domain_facts *f = ld->kind == PF_R_DOMAIN ? ld->facts : NULL;
                const pf_obj *o = f ? pf_objset_find(have, PF_R_DOMAIN, ld->name) : NULL;
                if (!o || !o->owned)
                        continue;
                nics.vm = o->name;
                for (size_t j = 0; j < f->n_nics; j++)
                        add_nic(&nics, f->nics[j].iface, f->nics[j].type, f->nics[j].source, f->nics[j].ip);
        }
        *n = nics.n;
        return nics.v;
}

/* ---- desired ---- */

typedef struct build_ctx {
        pf_kind_ctx *k;
        pf_objset *have;
        pf_arena *arena;
        const char *note;               /* for the plan line of the VM just rendered */
} build_ctx;

/* The MAC an owned domain's podform metadata records for the interface. */
static const char *live_mac(void *ud, const char *vm, const char *iface) {
        build_ctx *b = ud;
        const pf_obj *o = pf_objset_find(b->have, PF_R_DOMAIN, vm);
        const pf_lv_doc *ld = o && o->owned ? pf_lv_doc_find(b->k->lv, PF_R_DOMAIN, vm) : NULL;
        const domain_facts *f = ld ? ld->facts : NULL;
        for (size_t i = 0; f && i < f->n_macs; i++)
                if (!strcmp(f->macs[i].iface, iface))
                        return pf_arena_strdup(&b->have->arena, f->macs[i].mac);
        return NULL;
}

static bool live_network(void *ud, const char *name) {
        build_ctx *b = ud;
        return pf_objset_find(b->have, PF_R_NETWORK, name) != NULL;
}

static bool host_pci(void *ud, const char *ifname, pf_pci *ret) {
        build_ctx *b = ud;
        return pf_lv_host_pci(b->k->lv, ifname, ret);
}

static bool dev_taken(void *ud, const char *vm, const char *dev) {
        build_ctx *b = ud;
        const pf_lv_doc *ld = pf_lv_doc_find(b->k->lv, PF_R_DOMAIN, vm);
        const domain_facts *f = ld ? ld->facts : NULL;
        for (size_t i = 0; f && i < f->n_taken; i++)
                if (!strcmp(f->taken[i], dev))
                        return true;
        return false;
}

/* The type of a VM that sets none. A live one keeps its own: a default never redefines what
 * exists. A new one gets kvm where the host offers it, else qemu, as MAAS chooses, and its plan
 * line says which and why. */
static pf_domain_type domain_type(void *ud, const pf_vm *vm) {
        build_ctx *b = ud;
        const pf_lv_doc *ld = pf_lv_doc_find(b->k->lv, PF_R_DOMAIN, vm->meta.name);
        const domain_facts *f = ld ? ld->facts : NULL;
        if (f && f->type && !strcmp(f->type, "kvm"))
                return PF_DOMAIN_KVM;
        if (f && f->type && !strcmp(f->type, "qemu"))
                return PF_DOMAIN_QEMU;
        bool kvm = pf_lv_offers_kvm(b->k->lv, vm->arch, vm->machine);
        b->note = pf_arena_printf(b->arena, kvm ? "type kvm: this host offers kvm for %s"
                                                : "type qemu: this host offers no kvm for %s", vm->arch);
        return kvm ? PF_DOMAIN_KVM : PF_DOMAIN_QEMU;
}

static void masq_nic(void *ud, const pf_vm *vm, const pf_iface *i, const pf_mac *mac) {
        build_ctx *b = ud;
        if (b->k->masq)
                pf_masq_add(b->k->masq, vm, i, mac);
}

static void desire(const pf_kind_ops *self, pf_kind_ctx *k, pf_objset *have, pf_objset *want, pf_diags *d) {
        (void) self;
        const pf_model *m = k->model;
        build_ctx bctx = { k, have, &want->arena, NULL };
        pf_render_env renv = { .host_name = k->host_name, .host = k->host, .model = m, .live_mac = live_mac,
                               .live_network = live_network, .host_pci = host_pci, .dev_taken = dev_taken,
                               .domain_type = domain_type, .masq_nic = masq_nic, .ud = &bctx,
                               .links = k->links, .attach = k->attach, .libvirt_version = pf_lv_version(k->lv) };
        pf_renderer *rd = pf_renderer_new(&renv);
        pf_fields wb;
        pf_fields_init(&wb, &want->arena);
        for (size_t i = 0; i < m->vms.n; i++) {
                const pf_vm *vm = &m->vms.v[i];
                bctx.note = NULL;
                _cleanup_free_ char *xml = NULL;
                xmlDocPtr doc = pf_render_domain_text(rd, vm, d, &xml);
                if (!doc)
                        continue;
                size_t idx = pf_add_desired_text(want, PF_R_DOMAIN, vm->meta.name, NULL, vm->meta.name_loc);
                want->objs.v[idx].active = vm->running;
                want->objs.v[idx].note = bctx.note;
                pf_lv_domain_fields(doc, NULL, pf_lv_canon_machine, k->lv, &wb);
                /* a domain podform did not create gets no podform record (pf_lv_merge_domain) to hold a
                 * constraint address: only the plan's attachments show it */
                const pf_obj *live = pf_objset_find(have, PF_R_DOMAIN, vm->meta.name);
                if (!live || live->owned)
                        pf_lv_domain_record_fields(doc, &wb);
                pf_field_add(&wb, PF_LAND_LIVE, PF_FIELD_STOPS, vm->running ? "yes" : "no", "running");
                pf_field_add(&wb, PF_LAND_LIVE, 0, vm->autostart ? "yes" : "no", "autostart");
                pf_fields_finish(&wb, &want->objs.v[idx]);
                /* apply sends the definition only where a field differs from the live domain's
                 * (domain_change): 3 KB per VM held for those only */
                if (!live || !pf_obj_fields_match(&want->objs.v[idx], live))
                        want->objs.v[idx].xml = pf_arena_strdup(&want->arena, xml);
                /* a live domain's desired document names its interfaces in finish, which frees it;
                 * the others are done with */
                pf_lv_doc *ld = live ? pf_lv_doc_find(k->lv, PF_R_DOMAIN, vm->meta.name) : NULL;
                const domain_facts *f = ld ? ld->facts : NULL;
                if (f && !f->fields_read && !ld->desired)
                        ld->desired = doc;
                else
                        xmlFreeDoc(doc);
        }
        pf_renderer_free(rd);
        pf_fields_free(&wb);
}

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
/* The declared or live name of that kind nearest to a missing one, for a "did you mean"; NULL
 * when none is near. */
static const char *near_name(const pf_model *m, const pf_objset *have, pf_rkind kind, const char *name) {
        size_t n = 0, n_declared = kind == PF_R_NETWORK ? m->networks.n : m->pools.n;
        const char **v = pf_xcalloc(n_declared + have->objs.n + 1, sizeof(*v));
        for (size_t i = 0; i < n_declared; i++)
                v[n++] = kind == PF_R_NETWORK ? m->networks.v[i].meta.name : m->pools.v[i].meta.name;
        for (size_t i = 0; i < have->objs.n; i++)
                if (have->objs.v[i].kind == kind)
                        v[n++] = have->objs.v[i].name;
        const char *near = pf_suggest(name, v, n);
        free(v);
        return near;
}

/* References to libvirt objects must resolve, declared or live: a VM must not be planned
 * onto a network or a pool that is not there. */
static void check_references(const pf_model *m, const pf_objset *have, const pf_host *host, pf_diags *d) {
        for (size_t i = 0; i < m->vms.n; i++) {
                const pf_vm *vm = &m->vms.v[i];
                for (size_t k = 0; k < vm->networks.n; k++) {
                        const pf_vm_net *n = &vm->networks.v[k];
                        if (n->backend == PF_BACKEND_NETWORK && !declared_network(m, n->network) &&
                            !pf_objset_find(have, PF_R_NETWORK, n->network)) {
                                const char *near = near_name(m, have, PF_R_NETWORK, n->network);
                                pf_error(d, n->network_loc, "network '%s' is neither declared nor defined in libvirt on this "
                                         "host; declare a Network of that name, or name an existing one" PF_HINT_FMT, n->network,
                                         PF_HINT(near));
                        }
                }
                for (size_t k = 0; k < vm->disks.n; k++) {
                        const pf_disk *disk = &vm->disks.v[k];
                        const char *pool = disk->pool ? disk->pool : host->default_storage_pool;
                        if ((!disk->size && !pf_loc_set(disk->size_loc)) || declared_pool(m, pool) ||
                            pf_objset_find(have, PF_R_POOL, pool))
                                continue;
                        const char *near = near_name(m, have, PF_R_POOL, pool);
                        if (disk->pool)
                                pf_error(d, disk->pool_loc, "storage pool '%s' is neither declared nor defined in libvirt on "
                                         "this host; declare a StoragePool of that name, or name an existing one" PF_HINT_FMT,
                                         pool, PF_HINT(near));
                        else
                                pf_error(d, disk->loc, "disk '%s' goes to the host's default storage pool '%s', which is "
                                         "neither declared nor defined in libvirt; declare it, give the disk a pool, or set "
                                         "Host.spec.defaultStoragePool" PF_HINT_FMT, disk->name, pool, PF_HINT(near));
                }
        }
}

static void check(const pf_kind_ops *self, pf_kind_ctx *k, const pf_objset *have, pf_diags *d) {
        (void) self;
        check_references(k->model, have, k->host, d);
}

/* ---- apply ---- */

static int wait_shutoff(pf_lv_host *h, virDomainPtr dom) {
        if (MUTATE(h, virDomainShutdown(dom)) == 0) {
                struct timespec step = { 0, 200 * 1000 * 1000 };
                for (unsigned i = 0; i < pf_lv_options(h)->shutdown_timeout * 5; i++) {
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
static int domain_create(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_domain_ virDomainPtr d = MUTATE(h, virDomainDefineXML(pf_lv_conn(h), a->want->xml));
        if (!d) {
                *err = pf_lv_error("cannot define VM", a->name);
                return -1;
        }
        int r = 0;
        if (pf_action_wants(a, "autostart") && MUTATE(h, virDomainSetAutostart(d, 1)) < 0)
                *err = pf_lv_error("cannot mark VM for autostart", a->name), r = -1;
        else if (a->want->active && MUTATE(h, virDomainCreate(d)) < 0)
                *err = pf_lv_error("cannot start VM", a->name), r = -1;
        if (r < 0) {
                if (virDomainIsActive(d) == 1)
                        MUTATE(h, virDomainDestroy(d));
                MUTATE(h, virDomainUndefine(d));
        }
        return r;
}
/* The device element of the interface group "iface[NAME]" in a domain document. */
static xmlNodePtr find_interface(xmlDocPtr doc, const pf_obj *o, const char *key) {
        _cleanup_free_ char *mkey = pf_xasprintf("%.*s].mac", (int) strcspn(key, "]"), key);
        const pf_field *mac = pf_obj_field(o, mkey);
        xmlNodePtr devices = pf_xml_child(xmlDocGetRootElement(doc), "devices");
        for (xmlNodePtr c = devices ? devices->children : NULL; c && mac; c = c->next)
                if (pf_xml_is(c, "interface") && pf_xml_prop_eq(pf_xml_child(c, "mac"), "address", mac->value))
                        return c;
        return NULL;
}
/* Whether the running VM still has the NIC of that MAC: 1, 0, or -1 when it cannot be read. */
static int live_has_nic(virDomainPtr d, xmlNodePtr nic) {
        _cleanup_free_ char *xml = virDomainGetXMLDesc(d, 0);
        _cleanup_xml_doc_ xmlDocPtr doc = xml ? pf_xml_parse(xml) : NULL;
        if (!doc)
                return -1;
        _cleanup_xml_char_ xmlChar *mac = xmlGetProp(pf_xml_child(nic, "mac"), BAD_CAST "address");
        xmlNodePtr devices = pf_xml_child(xmlDocGetRootElement(doc), "devices");
        for (xmlNodePtr c = devices ? devices->children : NULL; c && mac; c = c->next)
                if (pf_xml_is(c, "interface") && pf_xml_prop_eq(pf_xml_child(c, "mac"), "address", (char *) mac))
                        return 1;
        return 0;
}
/* A hot-unplug is a request the guest acknowledges: libvirt waits a few seconds for it, then
 * returns with the NIC still in the running VM. Wait as long as for a shutdown, so that apply
 * and its verify do not report a NIC gone that the guest still has. */
static int wait_unplugged(pf_lv_host *h, virDomainPtr d, xmlNodePtr nic) {
        struct timespec step = { 0, 200 * 1000 * 1000 };
        int r = live_has_nic(d, nic);
        for (unsigned i = 0; r == 1 && i < pf_lv_options(h)->shutdown_timeout * 5; i++) {
                nanosleep(&step, NULL);
                r = live_has_nic(d, nic);
        }
        return r;
}
/* Interfaces of a running VM, changed live and in the definition: a whole NIC added or
 * removed is a hot-plug; a NIC whose only change is its source network or bridge is moved in
 * place. Any other NIC change waits for the restart. *plugged: whether a NIC was added or
 * removed. */
static int domain_hotplug(pf_lv_host *h, virDomainPtr d, const pf_action *a, const char *have_xml, bool *plugged,
                          char **err) {
        _cleanup_xml_doc_ xmlDocPtr want = pf_xml_parse(a->want->xml), have = pf_xml_parse(have_xml);
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
                _cleanup_free_ char *x = pf_xml_node_dump(doc, nic);
                unsigned flags = VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG;
                const char *verb = added ? "hot-plug" : removed ? "hot-unplug" : "move";
                int ret = added ? MUTATE(h, virDomainAttachDeviceFlags(d, x, flags))
                          : removed ? MUTATE(h, virDomainDetachDeviceFlags(d, x, flags))
                                    : MUTATE(h, virDomainUpdateDeviceFlags(d, x, flags));
                if (ret < 0) {
                        *err = pf_xasprintf("cannot %s interface %.*s of VM %s: %s", verb, (int) (len - 6), first->key + 6,
                                      a->name, pf_lv_reason());
                        r = -1;
                } else if (added || removed) {
                        *plugged = true;
                }
                int still = r == 0 && removed ? wait_unplugged(h, d, nic) : 0;
                if (still) {
                        *err = still < 0 ? pf_lv_error("cannot read the running VM", a->name)
                                         : pf_xasprintf("VM %s: the guest did not release interface %.*s within %u s "
                                                        "(--shutdown-timeout); it is gone from the definition, and the "
                                                        "running VM keeps it until the guest acknowledges the unplug or "
                                                        "restarts", a->name, (int) (len - 6), first->key + 6,
                                                        pf_lv_options(h)->shutdown_timeout);
                        r = -1;
                }
        }
        return r;
}
/* Whether a change touches what the podform metadata records and nothing reads from the
 * device (a constraint address, podform.yaml(5), Interface constraints). */
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
                _cleanup_free_ char *x = pf_xml_node_dump(want, md);
                if (MUTATE(h, virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, x, PF_XMLNS_PREFIX, PF_XMLNS,
                                                   VIR_DOMAIN_AFFECT_LIVE)) < 0)
                        *err = pf_lv_error("cannot record the addresses of running VM", a->name), r = -1;
        }
        return r;
}
static int domain_change(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_domain_ virDomainPtr d = virDomainLookupByName(pf_lv_conn(h), a->name);
        if (!d) {
                *err = pf_lv_error("cannot find VM", a->name);
                return -1;
        }
        int r = 0;
        bool active = a->have->active;
        bool redefine = false;
        for (size_t i = 0; i < a->changes.n; i++)
                if (strcmp(a->changes.v[i].key, "running") && strcmp(a->changes.v[i].key, "autostart") &&
                    strcmp(a->changes.v[i].key, "restart"))
                        redefine = true;
        /* the live definition, read again for the few domains that change rather than held for all */
        _cleanup_free_ char *have_xml = redefine ? virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE) : NULL;
        if (redefine && !have_xml) {
                *err = pf_lv_error("cannot read the definition of VM", a->name);
                return -1;
        }
        bool plugged = false;
        if (active && redefine)
                r = domain_hotplug(h, d, a, have_xml, &plugged, err);
        if (r == 0 && redefine) {
                _cleanup_free_ char *xml = pf_lv_merge_domain(a->want->xml, have_xml);
                virDomainPtr nd = xml ? MUTATE(h, virDomainDefineXML(pf_lv_conn(h), xml)) : NULL;
                if (!nd)
                        *err = pf_lv_error("cannot redefine VM", a->name), r = -1;
                else
                        virDomainFree(nd);
        }
        /* the running VM's record names its NICs, a hot-plugged one too (else the plan would
         * take the NIC for a difference between the running VM and its definition) */
        if (r == 0 && active && a->have->owned && (records_changed(a) || plugged))
                r = set_live_record(h, d, a, err);
        if (r == 0 && active && (a->restart || !a->want->active)) {
                if (wait_shutoff(h, d) < 0)
                        *err = pf_lv_error("cannot shut down VM", a->name), r = -1;
                else
                        active = false;
        }
        if (r == 0 && a->want->active && !active && MUTATE(h, virDomainCreate(d)) < 0)
                *err = pf_lv_error("cannot start VM", a->name), r = -1;
        if (r == 0 && pf_action_change(a, "autostart") && MUTATE(h, virDomainSetAutostart(d, pf_action_wants(a, "autostart"))) < 0)
                *err = pf_lv_error("cannot change autostart of VM", a->name), r = -1;
        return r;
}
static int domain_delete(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_domain_ virDomainPtr d = virDomainLookupByName(pf_lv_conn(h), a->name);
        if (!d) {
                *err = pf_lv_error("cannot find VM", a->name);
                return -1;
        }
        int r = 0;
        if (virDomainIsActive(d) == 1 && wait_shutoff(h, d) < 0)
                *err = pf_lv_error("cannot stop VM", a->name), r = -1;
        else if (MUTATE(h, virDomainUndefineFlags(d, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                                                             VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)) < 0)
                *err = pf_lv_error("cannot undefine VM", a->name), r = -1;
        return r;
}

static int apply(const pf_kind_ops *self, pf_kind_ctx *k, const pf_action *a, char **err) {
        (void) self;
        virResetLastError();
        return a->op == PF_OP_CREATE   ? domain_create(k->lv, a, err)
               : a->op == PF_OP_CHANGE ? domain_change(k->lv, a, err)
                                       : domain_delete(k->lv, a, err);
}

/* ---- the macvtaps libvirt makes for running domains ---- */

int pf_vm_tap_cmp(const void *a, const void *b) {
        return strcmp(((const pf_vm_tap *) a)->dev, ((const pf_vm_tap *) b)->dev);
}

pf_vm_tap *pf_domain_macvtaps(pf_kind_ctx *k, pf_arena *a, size_t *n) {
        size_t cap = 16;
        pf_vm_tap *v = pf_xcalloc(cap, sizeof(*v));
        *n = 0;
        for (size_t i = 0; i < pf_lv_n_docs(k->lv); i++) {
                const pf_lv_doc *ld = pf_lv_doc_at(k->lv, i);
                const domain_facts *f = ld->kind == PF_R_DOMAIN ? ld->facts : NULL;
                for (size_t j = 0; f && j < f->n_taps; j++) {
                        if (*n == cap)
                                v = pf_xreallocarray(v, cap *= 2, sizeof(*v));
                        v[(*n)++] = (pf_vm_tap) { pf_arena_strdup(a, f->taps[j]), pf_arena_strdup(a, ld->name) };
                }
        }
        qsort(v, *n, sizeof(*v), pf_vm_tap_cmp);
        return v;
}

const char *pf_domain_running_user(pf_kind_ctx *k, const char *pool, const char *volume, const char **dev) {
        for (size_t i = 0; i < pf_lv_n_docs(k->lv); i++) {
                const pf_lv_doc *ld = pf_lv_doc_at(k->lv, i);
                const domain_facts *f = ld->kind == PF_R_DOMAIN ? ld->facts : NULL;
                for (size_t j = 0; f && j < f->n_disks; j++)
                        if (!strcmp(f->disks[j].pool, pool) && !strcmp(f->disks[j].volume, volume)) {
                                *dev = f->disks[j].dev;
                                return ld->name;
                        }
        }
        return NULL;
}

/* ---- graph ---- */

/* What an interface of each libvirt type is plugged into, as a node of the graph. */
static const struct nic_target {
        const char *type, *id_kind;
        pf_graph_role role;
        const char *label;              /* of the target node, before its source */
        const char *edge;               /* the edge's label when no rule chose the target */
} nic_targets[] = {
        { "network", "network", PF_GR_NETWORK, "network ", NULL },
        { "bridge", "link", PF_GR_LINK, "bridge ", NULL },
        { "ethernet", "link", PF_GR_NIC, "", "tap" },
        { "direct", "link", PF_GR_NIC, "", "macvtap" },
        { "hostdev", "pci", PF_GR_NIC, "PCI ", "passthrough" },
        { NULL },
};

static const struct nic_target *nic_target(const char *type) {
        for (const struct nic_target *t = nic_targets; t->type; t++)
                if (!strcmp(t->type, type))
                        return t;
        return NULL;
}

/* The rules' decision for interface `iface` of the declared VM `vm`, or NULL. */
static const pf_attachment *attachment_of(const pf_kind_ctx *k, const char *vm, const char *iface) {
        for (size_t i = 0; k->attach && i < k->model->vms.n; i++) {
                const pf_vm *v = &k->model->vms.v[i];
                for (size_t j = 0; !strcmp(v->meta.name, vm) && j < v->interfaces.n; j++)
                        if (v->interfaces.v[j].name && !strcmp(v->interfaces.v[j].name, iface))
                                return pf_attach_find(k->attach, v, &v->interfaces.v[j]);
        }
        return NULL;
}

/* The rule, as the edge's label: "pod: rule a", "pod: by binding", "constraints". */
static const char *rule_label(pf_arena *a, const pf_attachment *x) {
        if (x->rule == PF_RULE_CONSTRAINTS)
                return pf_arena_printf(a, "constraints%s%s", x->by_d ? ", by d" : "", x->kept ? ", kept" : "");
        if (x->rule == PF_RULE_BINDING)
                return "pod: by binding";
        return pf_arena_printf(a, "pod: rule %s%s%s", pf_attach_rule_name(x->rule), x->by_d ? " by d" : "",
                               x->kept ? ", kept" : "");
}

/* The value of "iface[NAME].MEMBER", or NULL. */
static const char *iface_field(const pf_obj *o, pf_arena *a, const char *name, const char *member) {
        const pf_field *f = pf_obj_field(o, pf_arena_printf(a, "iface[%s].%s", name, member));
        return f ? f->value : NULL;
}

/* Interface `name` of the VM: its node, and the edge to what it is plugged into. */
static void graph_iface(const pf_kind_ctx *k, const pf_obj *o, const char *vm_id, const char *name, pf_graph *g) {
        const char *type = iface_field(o, &g->arena, name, "type");
        const char *src = iface_field(o, &g->arena, name, "source");
        const char *mac = iface_field(o, &g->arena, name, "mac");
        const char *id = pf_graph_id(g, "iface", pf_arena_printf(&g->arena, "%s/%s", o->name, name));
        /* someone else's NIC is named by its MAC already */
        bool named_by_mac = !strncmp(name, "mac ", 4);
        pf_graph_part_add(g, PF_GR_IFACE, id, mac && !named_by_mac ? pf_arena_printf(&g->arena, "%s\n%s", name, mac) : name);
        pf_graph_edge_add(g, vm_id, id, NULL, NULL);
        const struct nic_target *t = type ? nic_target(type) : NULL;
        if (!t || !src || !*src)
                return;         /* QEMU's user networking: plugged into nothing on the host */
        /* a source may say more after the device: "eno2 mode=vepa" */
        size_t n = strcspn(src, " ");
        const char *dev = pf_arena_strndup(&g->arena, src, n), *more = src[n] ? src + n + 1 : NULL;
        const char *to = pf_graph_id(g, t->id_kind, dev);
        pf_graph_ref_add(g, t->role, to, pf_arena_printf(&g->arena, "%s%s", t->label, dev));
        const pf_attachment *x = attachment_of(k, o->name, name);
        const char *label = x ? rule_label(&g->arena, x) : t->edge;
        if (more)
                label = label ? pf_arena_printf(&g->arena, "%s\n%s", label, more) : more;
        pf_graph_edge_add(g, id, to, label, x ? x->reason : NULL);
}

/* The NAME of a key "iface[NAME].type", else NULL. */
static const char *iface_of_key(pf_arena *a, const char *key) {
        size_t n = strlen(key);
        if (strncmp(key, "iface[", 6) || n < 12 || strcmp(key + n - 6, "].type"))
                return NULL;
        return pf_arena_strndup(a, key + 6, n - 12);
}

/* The volume "POOL/NAME" of a key "disk[POOL/NAME]", else NULL (a CD-ROM, a disk added by hand). */
static const char *volume_of_key(pf_arena *a, const char *key) {
        size_t n = strlen(key);
        if (strncmp(key, "disk[", 5) || key[n - 1] != ']' || !memchr(key + 5, '/', n - 6))
                return NULL;
        return pf_arena_strndup(a, key + 5, n - 6);
}

static void graph_disk(const pf_field *f, const char *vm_id, const char *volume, pf_graph *g) {
        const char *id = pf_graph_id(g, "volume", volume), *slash = strchr(volume, '/');
        pf_graph_ref_add(g, PF_GR_VOLUME, id, pf_arena_printf(&g->arena, "volume %s", slash + 1));
        const char *dev = strncmp(f->value, "dev=", 4) ? NULL : f->value + 4;
        pf_graph_edge_add(g, vm_id, id, dev ? pf_arena_strndup(&g->arena, dev, strcspn(dev, " ")) : NULL, NULL);
}

static const char *vm_label(const pf_obj *o, pf_arena *a) {
        const pf_field *cpus = pf_obj_field(o, "vcpus"), *mem = pf_obj_field(o, "memory");
        const char *label = pf_arena_printf(a, "vm %s", o->name);
        if (cpus && mem)
                label = pf_arena_printf(a, "%s\n%s vCPU, %llu MiB", label, cpus->value,
                                        strtoull(mem->value, NULL, 10) / 1024);
        return label;
}

static void graph(const pf_kind_ops *self, const pf_kind_ctx *k, const pf_obj *o, pf_graph *g) {
        (void) self;
        const char *id = pf_graph_id(g, "vm", o->name);
        pf_graph_node_add(g, PF_GR_VM, id, vm_label(o, &g->arena));
        for (size_t i = 0; i < o->fields.n; i++) {
                const pf_field *f = &o->fields.v[i];
                const char *name = iface_of_key(&g->arena, f->key), *volume = volume_of_key(&g->arena, f->key);
                if (name)
                        graph_iface(k, o, id, name, g);
                else if (volume)
                        graph_disk(f, id, volume, g);
        }
}

const pf_kind_ops pf_domain_kind = {
        .rkind = PF_R_DOMAIN, .model_kind = PF_KIND_VIRTUAL_MACHINE, .order = PF_ORDER_NEEDS_ALL, .flags = PF_KIND_LIBVIRT,
        .observe = observe, .desire = desire, .finish = finish, .check = check, .apply = apply, .show = pf_domain_show,
        .graph = graph,
};
