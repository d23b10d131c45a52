/* yaml_out.h: writes the configuration podform reads, for `podform show`: as YAML documents
 * with comments (libyaml's emitter has none, and what podform cannot express is kept as one),
 * or as one JSON object for programs. Calls build a tree; pf_yaml_out_finish writes it, so an
 * empty mapping can still be written `{}` and a sequence item's comments go above its dash.
 * Output is deterministic: keys come in the order the caller gives them. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/arena.h"

typedef enum pf_yaml_format { PF_YAML_OUT_YAML, PF_YAML_OUT_JSON } pf_yaml_format;

typedef struct pf_ynode pf_ynode;
typedef struct pf_yaml_out {
        FILE *f;
        pf_yaml_format format;
        pf_arena arena;
        pf_ynode *root;                 /* documents and asides, in order */
        pf_ynode *open[32];             /* open containers: [0] the root, then a document, ... */
        unsigned depth;                 /* how many of open[] are in use */
} pf_yaml_out;

/* How a scalar is written: a string is quoted when YAML would read it as anything else (a
 * number, a boolean, null, a sexagesimal MAC) or when it holds a character plain style can't;
 * numbers and booleans are written as they are. */
typedef enum pf_yaml_type { PF_YAML_STR, PF_YAML_NUM, PF_YAML_BOOL } pf_yaml_type;

void pf_yaml_out_init(pf_yaml_out *y, FILE *f, pf_yaml_format format);
/* Writes what was built to f and frees it. */
void pf_yaml_out_finish(pf_yaml_out *y);
/* The same in two steps: what was built, to f (in y's format); then freed. */
void pf_yaml_out_write(pf_yaml_out *y, FILE *f);
void pf_yaml_out_free(pf_yaml_out *y);
/* Copies of from's documents and asides after to's (a document built apart, to judge it first). */
void pf_yaml_out_append(pf_yaml_out *to, const pf_yaml_out *from);
/* A new document (YAML: "---" between two), with a leading comment unless NULL. */
void pf_yaml_document(pf_yaml_out *y, const char *comment);
/* A comment outside every document, before the next one (JSON: a comment of no resource). */
void pf_yaml_aside(pf_yaml_out *y, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "key:" opening a nested mapping, closed by pf_yaml_end; an empty one is "key: {}". */
void pf_yaml_map(pf_yaml_out *y, const char *key);
void pf_yaml_end(pf_yaml_out *y);
/* "key:" opening a block sequence whose items are mappings, each opened by pf_yaml_item
 * ("- " before its first key) and closed by pf_yaml_end; the sequence is closed by one more. */
void pf_yaml_seq(pf_yaml_out *y, const char *key);
void pf_yaml_item(pf_yaml_out *y);
void pf_yaml_scalar(pf_yaml_out *y, const char *key, pf_yaml_type type, const char *value);
/* "key: [a, b]" */
void pf_yaml_list(pf_yaml_out *y, const char *key, pf_yaml_type type, const char *const *v, size_t n);
/* "# text" where the tree is now; a newline in text starts another comment line. */
void pf_yaml_comment(pf_yaml_out *y, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
