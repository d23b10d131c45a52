/* volume.c: the volume kind. A volume only grows (a smaller size is a plan error); a running
 * VM's volume grows through that VM, so that QEMU and the guest learn of it. */
#include "config.h"
#include "kinds/volume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "config/values.h"
#include "kinds/domain.h"
#include "kinds/libvirt_common.h"
#include "libvirt/conn.h"
#include "libvirt/fields.h"
#include "util/cleanup.h"
#include "util/xml.h"

#define MUTATE PF_LV_MUTATE

void pf_volumes_observe(pf_kind_ctx *k, virStoragePoolPtr p, const char *pool_name, pf_objset *have, pf_fields *fb) {
        virStorageVolPtr *vols = NULL;
        int nv = virStoragePoolListAllVolumes(p, &vols, 0);
        for (int j = 0; j < nv; j++) {
                _cleanup_free_ char *vx = virStorageVolGetXMLDesc(vols[j], 0);
                _cleanup_xml_doc_ xmlDocPtr vd = vx ? pf_xml_parse(vx) : NULL;
                if (vd) {
                        const char *vname = pf_arena_printf(&have->arena, "%s/%s", pool_name, virStorageVolGetName(vols[j]));
                        size_t vi = have->objs.n;
                        pf_obj *vo = pf_objset_add(have, PF_R_VOLUME, vname);
                        vo->active = true;
                        const char *key = virStorageVolGetKey(vols[j]);
                        vo->owned = key && pf_owner_has(pf_lv_owner(k->lv), PF_R_VOLUME, vname, key);
                        pf_lv_volume_fields(vd, pool_name, fb);
                        pf_fields_finish(fb, vo);
                        vo = &have->objs.v[vi];
                        const pf_field *cap = pf_obj_field(vo, "capacity");
                        vo->size = cap ? strtoull(cap->value, NULL, 10) : 0;
                }
                virStorageVolFree(vols[j]);
        }
        free(vols);
}

/* The capacity to compare a live volume with: the size asked, or the whole KiB above it that
 * the live volume has (libvirt creates qcow2 through "qemu-img create PATH SIZEK", and podform
 * rendered every volume so before), which is not a change and no shrink. */
static uint64_t desired_capacity(const pf_objset *have, const char *name, uint64_t size) {
        const pf_obj *live = pf_objset_find(have, PF_R_VOLUME, name);
        uint64_t kib = (size + 1023) / 1024 * 1024;
        return live && live->size > size && live->size == kib ? kib : size;
}

static void desire_disk(pf_objset *want, const pf_objset *have, const pf_render_env *renv, const pf_vm *vm,
                        const pf_disk *disk, pf_fields *wb) {
        const char *pool = pf_disk_pool(renv, disk);
        char *vol = pf_volume_name(&want->arena, vm->meta.name, disk->name);
        const char *name = pf_arena_printf(&want->arena, "%s/%s", pool, vol);
        _cleanup_xml_doc_ xmlDocPtr doc = pf_render_volume(vol, desired_capacity(have, name, disk->size), disk->format);
        pf_loc loc = pf_loc_set(disk->size_loc) ? disk->size_loc : disk->loc;
        /* only a create sends the definition (a volume changes by growing): held for new ones */
        size_t idx = pf_objset_find(have, PF_R_VOLUME, name) ? pf_add_desired_text(want, PF_R_VOLUME, name, NULL, loc)
                                                              : pf_add_desired(want, PF_R_VOLUME, name, doc, loc);
        pf_lv_volume_fields(doc, pool, wb);
        pf_fields_finish(wb, &want->objs.v[idx]);
        want->objs.v[idx].size = disk->size;
}

static void desire(const pf_kind_ops *self, pf_kind_ctx *k, pf_objset *have, pf_objset *want, pf_diags *d) {
        (void) self, (void) d;
        pf_render_env renv = { .host = k->host };
        pf_fields wb;
        pf_fields_init(&wb, &want->arena);
        for (size_t i = 0; i < k->model->vms.n; i++) {
                const pf_vm *vm = &k->model->vms.v[i];
                for (size_t j = 0; j < vm->disks.n; j++) {
                        const pf_disk *disk = &vm->disks.v[j];
                        if (disk->size || pf_loc_set(disk->size_loc))    /* else a KubeVirt volume: the renderer reports it */
                                desire_disk(want, have, &renv, vm, disk, &wb);
                }
        }
        pf_fields_free(&wb);
}

static int create(pf_lv_host *h, virStoragePoolPtr pool, const pf_action *a, char **err) {
        virStorageVolPtr v = MUTATE(h, virStorageVolCreateXML(pool, a->want->xml, 0));
        if (!v) {
                *err = pf_lv_error("cannot create volume", a->name);
                return -1;
        }
        /* recorded, so it stays podform's after a VM stops listing it */
        const char *key = virStorageVolGetKey(v);
        if (key)
                pf_owner_set(pf_lv_owner(h), PF_R_VOLUME, a->name, key);
        virStorageVolFree(v);
        return 0;
}

static int grow(pf_kind_ctx *k, virStorageVolPtr vol, const pf_action *a, char **err) {
        pf_lv_host *h = k->lv;
        const pf_change *c = pf_action_change(a, "capacity");
        unsigned long long bytes = c && c->new_value ? strtoull(c->new_value, NULL, 10) : 0;
        const char *slash = strchr(a->name, '/'), *dev = "";
        _cleanup_free_ char *pool = slash ? pf_xstrndup(a->name, (size_t) (slash - a->name)) : NULL;
        const char *user = bytes && pool ? pf_domain_running_user(k, pool, slash + 1, &dev) : NULL;
        if (user) {
                /* QEMU holds the image: grow it through the running VM, which also tells the guest */
                _cleanup_virt_domain_ virDomainPtr d = virDomainLookupByName(pf_lv_conn(h), user);
                if (!d || MUTATE(h, virDomainBlockResize(d, dev, bytes, VIR_DOMAIN_BLOCK_RESIZE_BYTES)) < 0) {
                        *err = pf_xasprintf("cannot grow volume %s through running VM %s: %s", a->name, user,
                                            pf_lv_reason());
                        return -1;
                }
        } else if (bytes && MUTATE(h, virStorageVolResize(vol, bytes, 0)) < 0) {
                *err = pf_lv_error("cannot grow volume", a->name);
                return -1;
        }
        return 0;
}

static int apply(const pf_kind_ops *self, pf_kind_ctx *k, const pf_action *a, char **err) {
        (void) self;
        virResetLastError();
        pf_lv_host *h = k->lv;
        const char *slash = strchr(a->name, '/');
        _cleanup_free_ char *pool_name = pf_xstrndup(a->name, slash ? (size_t) (slash - a->name) : 0);
        /* the pool's handle is looked up once per apply: a volume created costs one RPC */
        virStoragePoolPtr pool = slash ? pf_lv_pool(h, pool_name) : NULL;
        if (!pool) {
                *err = pf_lv_error("cannot find the storage pool of volume", a->name);
                return -1;
        }
        if (a->op == PF_OP_CREATE)
                return create(h, pool, a, err);
        _cleanup_virt_vol_ virStorageVolPtr vol = virStorageVolLookupByName(pool, slash + 1);
        if (!vol) {
                *err = pf_lv_error("cannot find volume", a->name);
                return -1;
        }
        if (a->op == PF_OP_CHANGE)
                return grow(k, vol, a, err);
        if (MUTATE(h, virStorageVolDelete(vol, 0)) < 0) {
                *err = pf_lv_error("cannot delete volume", a->name);
                return -1;
        }
        pf_owner_drop(pf_lv_owner(h), PF_R_VOLUME, a->name);
        return 0;
}

/* A volume is declared as a VM's disk, so it is shown in that VM's document; one no shown disk
 * uses is named in a comment (a configuration has no document for a bare volume). */
static void show(const pf_kind_ops *self, const pf_kind_ctx *k, const pf_objset *have, const pf_obj *live, pf_yaml_out *y) {
        (void) self;
        const char *slash = strchr(live->name, '/');
        pf_arena t = { 0 };
        const char *pool = slash ? pf_arena_printf(&t, "%.*s", (int) (slash - live->name), live->name) : "";
        if (slash && !pf_domain_shows_volume(k, have, pool, slash + 1)) {
                const pf_field *format = pf_obj_field(live, "format");
                pf_yaml_aside(y, "volume %s (%llu bytes, %s%s) is no disk of a VM shown here: left as it is", live->name,
                                (unsigned long long) live->size, format ? format->value : "raw",
                                live->owned ? ", podform's: --prune deletes it" : "");
        }
        pf_arena_free(&t);
}

/* ---- graph ---- */

/* A volume ("POOL/NAME") beside its pool; its VMs draw the edges to it. */
static void graph(const pf_kind_ops *self, const pf_kind_ctx *k, const pf_obj *o, pf_graph *g) {
        (void) self;
        (void) k;
        const char *slash = strchr(o->name, '/');
        const char *pool = slash ? pf_arena_strndup(&g->arena, o->name, (size_t) (slash - o->name)) : o->name;
        const pf_field *cap = pf_obj_field(o, "capacity"), *format = pf_obj_field(o, "format");
        const char *label = pf_arena_printf(&g->arena, "volume %s", slash ? slash + 1 : o->name);
        char size[64];
        if (cap)
                label = pf_arena_printf(&g->arena, "%s\n%s", label, pf_size_format(strtoull(cap->value, NULL, 10), size));
        if (format)
                label = pf_arena_printf(&g->arena, "%s %s", label, format->value);
        const char *id = pf_graph_id(g, "volume", o->name), *pool_id = pf_graph_id(g, "pool", pool);
        pf_graph_node_add(g, PF_GR_VOLUME, id, label);
        pf_graph_ref_add(g, PF_GR_POOL, pool_id, pf_arena_printf(&g->arena, "pool %s", pool));
        pf_graph_edge_add(g, id, pool_id, NULL, NULL);
}

const pf_kind_ops pf_volume_kind = {
        .rkind = PF_R_VOLUME, .model_kind = PF_KIND_VIRTUAL_MACHINE, .order = PF_ORDER_IN_POOL, .flags = PF_KIND_LIBVIRT,
        .desire = desire, .apply = apply, .show = show, .graph = graph,
};
