/* yaml.h: a YAML stream as a tree of nodes, built from libyaml's event API.
 *
 * We build our own tree instead of using yaml_parser_load so that nesting depth is bounded
 * (libyaml's loader recurses) and aliases are shared, never copied: an alias bomb costs one
 * pointer per alias here, and the walker's visit budget (load.c) bounds its expansion. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/diag.h"

#define PF_YAML_MAX_DEPTH 64

typedef enum pf_node_type { PF_NODE_SCALAR, PF_NODE_SEQUENCE, PF_NODE_MAPPING } pf_node_type;

typedef struct pf_node {
        pf_node_type type;
        bool plain;                     /* scalar written without quotes or block style */
        bool single_line;               /* scalar written on one line (columns inside it are exact) */
        bool quoted;                    /* single- or double-quoted scalar */
        uint32_t line, col;             /* 1-based start */
        const char *value;              /* scalars: NUL-terminated; `len` excludes the NUL */
        size_t len;
        struct pf_node **items;         /* sequence: n items; mapping: n pairs at [2i], [2i+1] */
        size_t n;
} pf_node;

typedef struct pf_yaml_doc {
        pf_node *root;
        size_t n_nodes;                 /* nodes created (aliases not counted) */
        uint32_t line, col;
} pf_yaml_doc;

typedef struct pf_yaml_docs {
        pf_yaml_doc *v;
        size_t n;
} pf_yaml_docs;

/* pf_yaml_parse: every document of src. Syntax errors and limits are reported to d; the
 * documents before the error are returned. Returns false if an error stopped parsing. Scalars
 * live in `a`, the tree (nodes, their item arrays, anchors) in `nodes`, which the caller may
 * free once it has read the documents. */
bool pf_yaml_parse(pf_arena *a, pf_arena *nodes, const pf_source *src, pf_diags *d, pf_yaml_docs *ret);

/* pf_node_is_null: plain empty, "~", "null", "Null" or "NULL". */
bool pf_node_is_null(const pf_node *n);
