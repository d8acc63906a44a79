/*
 * json_out.c: JSON written in document order, as text or as a tree (see
 * json_out.h).
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/gw.h"
#include "gateway/json_out.h"

/* Tree: item becomes the next value, under the pending key in an object
 * or as the next element of an array; the first value is the root. */
static void
add(struct gw_jout *o, cJSON *item)
{
	cJSON *parent;

	if (o->depth == 0) {
		if (o->root != NULL)
			gw_fatal("json_out: a second value at the top level");
		o->root = item;
		return;
	}
	parent = o->open[o->depth - 1];
	if (cJSON_IsObject(parent)) {
		if (o->key == NULL)
			gw_fatal("json_out: a member without a key");
		cJSON_AddItemToObjectCS(parent, o->key, item);
		o->key = NULL;
	} else {
		cJSON_AddItemToArray(parent, item);
	}
}

cJSON *
gw_jout_take_tree(struct gw_jout *o)
{
	cJSON *root = o->root;

	if (o->b != NULL || o->depth != 0)
		gw_fatal("json_out: no whole tree to take");
	o->root = NULL;
	return root;
}

struct gw_jout_mark
gw_jout_mark(const struct gw_jout *o)
{
	return (struct gw_jout_mark){
		.len = o->b != NULL ? o->b->len : 0,
		.comma = o->comma,
		.depth = o->depth,
		.had_root = o->root != NULL,
	};
}

void
gw_jout_rollback(struct gw_jout *o, struct gw_jout_mark m)
{
	if (o->b != NULL) {
		o->b->len = m.len;
		if (o->b->p != NULL)
			o->b->p[m.len] = '\0';
		o->comma = m.comma;
		return;
	}
	if (m.depth != 0 || m.had_root)
		gw_fatal("json_out: a tree rolls back only to its start");
	cJSON_Delete(o->root);
	o->root = NULL;
	o->depth = 0;
	o->key = NULL;
}

void
gw_jout_tree_key(struct gw_jout *o, const char *name)
{
	o->key = name;
}

void
gw_jout_tree_open(struct gw_jout *o, bool object)
{
	cJSON *item;

	if (o->depth == GW_JOUT_DEPTH)
		gw_fatal("json_out: containers nested too deep");
	item = object ? cJSON_CreateObject() : cJSON_CreateArray();
	add(o, item);
	o->open[o->depth++] = item;
}

void
gw_jout_tree_close(struct gw_jout *o)
{
	if (o->depth == 0)
		gw_fatal("json_out: a close without an open");
	o->depth--;
}

void
gw_jout_tree_string(struct gw_jout *o, const char *s)
{
	add(o, cJSON_CreateString(s != NULL ? s : ""));
}

void
gw_jout_number(struct gw_jout *o, double d)
{
	if (o->b == NULL) {
		add(o, cJSON_CreateNumber(d));
		return;
	}
	gw_jout_separate_(o, 0);
	gw_json_write_number(o->b, d);
	o->comma = true;
}

/* Text: n bytes that are one value, after the comma owed. */
static void
put_value_text(struct gw_jout *o, const char *text, size_t n)
{
	gw_jout_separate_(o, n);
	memcpy(o->b->p + o->b->len, text, n);
	o->b->len += n;
	o->b->p[o->b->len] = '\0';
	o->comma = true;
}

void
gw_jout_decimal(struct gw_jout *o, const char *text)
{
	size_t n = strlen(text);
	cJSON *node;

	if (o->b != NULL) {
		put_value_text(o, text, n);
		return;
	}
	/* Code that reads the tree sees the number; the writer prints the
	 * text (cJSON_Delete and cJSON_Duplicate handle valuestring on
	 * any node). */
	node = cJSON_CreateNumber(strtod(text, NULL));
	if (node == NULL || (node->valuestring = cJSON_malloc(n + 1)) == NULL)
		gw_fatal("json_out: out of memory");
	memcpy(node->valuestring, text, n + 1);
	add(o, node);
}

void
gw_jout_bool(struct gw_jout *o, bool v)
{
	if (o->b == NULL)
		add(o, cJSON_CreateBool(v));
	else
		put_value_text(o, v ? "true" : "false", v ? 4 : 5);
}

void
gw_jout_raw(struct gw_jout *o, const char *text, size_t n)
{
	if (o->b == NULL) {
		cJSON *item = cJSON_ParseWithLength(text, n);

		if (item == NULL)
			gw_fatal("json_out: raw text is not one JSON value");
		add(o, item);
		return;
	}
	put_value_text(o, text, n);
}
