/* pool.c: the StoragePool kind. A pool's type and path never change (plan errors); its state
 * and autostart do. Deleting a pool leaves its directory and what is in it. */
#include "config.h"
#include "kinds/pool.h"

#include <string.h>

#include <libvirt/virterror.h>

#include "kinds/libvirt_common.h"
#include "kinds/volume.h"
#include "libvirt/conn.h"
#include "libvirt/fields.h"
#include "model/names.h"
#include "util/cleanup.h"
#include "util/xml.h"

#define MUTATE PF_LV_MUTATE

static void observe_one(pf_kind_ctx *k, virStoragePoolPtr p, const pf_lv_names *on, const pf_lv_names *autostart,
                        pf_objset *have, pf_fields *fb) {
        const char *name = virStoragePoolGetName(p);
        char uuid[VIR_UUID_STRING_BUFLEN];
        _cleanup_free_ char *xml = virStoragePoolGetXMLDesc(p, VIR_STORAGE_XML_INACTIVE);
        if (!xml) /* the test driver knows no flags */
                xml = virStoragePoolGetXMLDesc(p, 0);
        _cleanup_xml_doc_ xmlDocPtr doc = xml ? pf_xml_parse(xml) : NULL;
        if (!doc || virStoragePoolGetUUIDString(p, uuid) < 0)
                return;         /* gone while we looked: it is simply not there */
        bool active = pf_lv_names_has(on, name);
        size_t idx = have->objs.n;
        pf_obj *o = pf_objset_add(have, PF_R_POOL, name);
        o->xml = pf_arena_strdup(&have->arena, xml);
        o->uuid = pf_arena_strdup(&have->arena, uuid);
        o->active = active;
        o->owned = pf_owner_has(pf_lv_owner(k->lv), PF_R_POOL, name, uuid);
        pf_lv_pool_fields(doc, fb);
        pf_add_state_fields(fb, active, pf_lv_names_has(autostart, name));
        pf_fields_finish(fb, &have->objs.v[idx]);
        /* volumes are listed pool by pool, and only an active pool lists them */
        if (active)
                pf_volumes_observe(k, p, name, have, fb);
}

static int observe(const pf_kind_ops *self, pf_kind_ctx *k, pf_objset *have, char **err) {
        (void) self;
        virStoragePoolPtr *pools = NULL;
        int n = virConnectListAllStoragePools(pf_lv_conn(k->lv), &pools, 0);
        if (n < 0) {
                *err = pf_xasprintf("cannot list storage pools: %s", pf_lv_reason());
                return -1;
        }
        /* run state and autostart from two filtered lists, not two calls per pool */
        pf_lv_names active = { 0 }, autostart = { 0 };
        int r = n == 0 ? 0 : pf_lv_list_names(k->lv, PF_LV_LIST_POOLS, VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE, &active, err);
        if (r == 0 && n)
                r = pf_lv_list_names(k->lv, PF_LV_LIST_POOLS, VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART, &autostart, err);
        pf_fields fb;
        pf_fields_init(&fb, &have->arena);
        for (int i = 0; r == 0 && i < n; i++)
                observe_one(k, pools[i], &active, &autostart, have, &fb);
        for (int i = 0; i < n; i++)
                virStoragePoolFree(pools[i]);
        free(pools);
        pf_fields_free(&fb);
        pf_lv_names_free(&active);
        pf_lv_names_free(&autostart);
        return r;
}

static void desire(const pf_kind_ops *self, pf_kind_ctx *k, pf_objset *have, pf_objset *want, pf_diags *d) {
        (void) self, (void) have, (void) d;
        pf_fields wb;
        pf_fields_init(&wb, &want->arena);
        for (size_t i = 0; i < k->model->pools.n; i++) {
                const pf_pool *p = &k->model->pools.v[i];
                _cleanup_xml_doc_ xmlDocPtr doc = pf_render_pool(p);
                size_t idx = pf_add_desired(want, PF_R_POOL, p->meta.name, doc, p->meta.name_loc);
                pf_lv_pool_fields(doc, &wb);
                pf_add_state_fields(&wb, 1, p->autostart);
                pf_fields_finish(&wb, &want->objs.v[idx]);
        }
        pf_fields_free(&wb);
}

static int create(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_pool_ virStoragePoolPtr p = MUTATE(h, virStoragePoolDefineXML(pf_lv_conn(h), a->want->xml, 0));
        if (!p) {
                *err = pf_lv_error("cannot define storage pool", a->name);
                return -1;
        }
        char uuid[VIR_UUID_STRING_BUFLEN];
        if (virStoragePoolGetUUIDString(p, uuid) == 0)
                pf_owner_set(pf_lv_owner(h), PF_R_POOL, a->name, uuid);
        int r = 0;
        if (MUTATE(h, virStoragePoolBuild(p, 0)) < 0)
                *err = pf_lv_error("cannot build (create the directory of) storage pool", a->name), r = -1;
        else if (a->want->active && MUTATE(h, virStoragePoolCreate(p, 0)) < 0)
                *err = pf_lv_error("cannot start storage pool", a->name), r = -1;
        else if (pf_action_wants(a, "autostart") && MUTATE(h, virStoragePoolSetAutostart(p, 1)) < 0)
                *err = pf_lv_error("cannot mark storage pool for autostart", a->name), r = -1;
        if (r < 0) {
                /* all or nothing: the next run creates it again */
                if (virStoragePoolIsActive(p) == 1)
                        MUTATE(h, virStoragePoolDestroy(p));
                if (MUTATE(h, virStoragePoolUndefine(p)) == 0)
                        pf_owner_drop(pf_lv_owner(h), PF_R_POOL, a->name);
        }
        return r;
}

static int change(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_pool_ virStoragePoolPtr p = virStoragePoolLookupByName(pf_lv_conn(h), a->name);
        if (!p) {
                *err = pf_lv_error("cannot find storage pool", a->name);
                return -1;
        }
        int r = 0;
        bool active = a->have->active;
        /* type and path never change (plan errors): only the state does */
        if (r == 0 && a->want->active && !active && MUTATE(h, virStoragePoolCreate(p, 0)) < 0)
                *err = pf_lv_error("cannot start storage pool", a->name), r = -1;
        if (r == 0 && !a->want->active && active && MUTATE(h, virStoragePoolDestroy(p)) < 0)
                *err = pf_lv_error("cannot stop storage pool", a->name), r = -1;
        if (r == 0 && pf_action_change(a, "autostart") &&
            MUTATE(h, virStoragePoolSetAutostart(p, pf_action_wants(a, "autostart"))) < 0)
                *err = pf_lv_error("cannot change autostart of storage pool", a->name), r = -1;
        return r;
}

static int delete(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_pool_ virStoragePoolPtr p = virStoragePoolLookupByName(pf_lv_conn(h), a->name);
        if (!p) {
                *err = pf_lv_error("cannot find storage pool", a->name);
                return -1;
        }
        int r = 0;
        /* the directory and anything left in it stay: only the libvirt object goes */
        if (virStoragePoolIsActive(p) == 1 && MUTATE(h, virStoragePoolDestroy(p)) < 0)
                *err = pf_lv_error("cannot stop storage pool", a->name), r = -1;
        else if (MUTATE(h, virStoragePoolUndefine(p)) < 0)
                *err = pf_lv_error("cannot undefine storage pool", a->name), r = -1;
        else
                pf_owner_drop(pf_lv_owner(h), PF_R_POOL, a->name);
        return r;
}

static int apply(const pf_kind_ops *self, pf_kind_ctx *k, const pf_action *a, char **err) {
        (void) self;
        virResetLastError();
        return a->op == PF_OP_CREATE ? create(k->lv, a, err) : a->op == PF_OP_CHANGE ? change(k->lv, a, err) : delete(k->lv, a, err);
}

/* The pool as its observed fields read (fields.c: its type, its path cleaned). A pool of a type
 * podform does not manage is said in a comment, not written as a document that would not load. */
static void show(const pf_kind_ops *self, const pf_kind_ctx *k, const pf_objset *have, const pf_obj *live, pf_yaml_out *y) {
        (void) k, (void) have;
        const pf_field *type = pf_obj_field(live, "type"), *path = pf_obj_field(live, "path");
        if (!type || pf_enum_lookup(&pf_pool_type_enum, type->value) < 0 || !path) {
                pf_yaml_aside(y, "StoragePool %s is of type '%s', which podform does not manage: left out",
                                live->name, type ? type->value : "?");
                return;
        }
        pf_kind_show_head(self, live, y);
        pf_yaml_map(y, "spec");
        pf_yaml_scalar(y, "type", PF_YAML_STR, type->value);
        pf_yaml_scalar(y, "path", PF_YAML_STR, path->value);
        pf_yaml_scalar(y, "autostart", PF_YAML_BOOL, pf_kind_show_bool(live, "autostart"));
        if (strcmp(pf_kind_show_bool(live, "active"), "true") != 0)
                pf_yaml_comment(y, "inactive now: applied, podform starts it (a pool podform manages is active)");
        pf_yaml_end(y);
}

/* ---- graph ---- */

static void graph(const pf_kind_ops *self, const pf_kind_ctx *k, const pf_obj *o, pf_graph *g) {
        (void) self;
        (void) k;
        const pf_field *type = pf_obj_field(o, "type"), *path = pf_obj_field(o, "path");
        const char *label = pf_arena_printf(&g->arena, "pool %s", o->name);
        if (type)
                label = pf_arena_printf(&g->arena, "%s\n%s%s%s", label, type->value, path ? " " : "", path ? path->value : "");
        pf_graph_node_add(g, PF_GR_POOL, pf_graph_id(g, "pool", o->name), label);
}

const pf_kind_ops pf_pool_kind = {
        .rkind = PF_R_POOL, .model_kind = PF_KIND_STORAGE_POOL, .order = PF_ORDER_INDEPENDENT, .flags = PF_KIND_LIBVIRT,
        .observe = observe, .desire = desire, .apply = apply, .show = show, .graph = graph,
};
