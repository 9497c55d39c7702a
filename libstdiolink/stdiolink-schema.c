#include "config.h"

#include <math.h>
#include <string.h>

#include "stdiolink-error.h"
#include "stdiolink-json.h"
#include "stdiolink-schema.h"

/*
 * One type system ("FieldMeta") serves driver command params, driver config and the service
 * config schema (spec/schema.md). Descriptors are immutable once parsed, so one schema can be
 * shared by the main thread and the loader threads; every JSON value handed out to callers
 * is a fresh deep copy for the same reason.
 *
 * Unlike the earlier server, which sorted fields by code point, field order is the order of
 * the source text everywhere (DESIGN.md, "Where we deliberately differ").
 */

/* 2^53: the largest range in which every integer is exactly representable as a double */
#define SAFE_INTEGER_LIMIT 9007199254740992.0

struct _StdiolinkFieldMeta {
	gatomicrefcount ref_count;
	char *name;
	StdiolinkFieldType type;
	gboolean required;
	JsonNode *default_value; /* NULL when there is no non-null default */
	char *description;

	/* constraints; an absent key means no bound, hence the has_* flags */
	gboolean has_min;
	gboolean has_max;
	gboolean has_min_length;
	gboolean has_max_length;
	gboolean has_min_items;
	gboolean has_max_items;
	double min;
	double max;
	int min_length;
	int max_length;
	int min_items;
	int max_items;
	char *pattern;
	GRegex *regex; /* NULL when the pattern is empty or does not compile */
	char *format;
	GPtrArray *enum_values; /* (element-type JsonNode) */

	JsonObject *ui; /* normalized UI hints, NULL when none is set */

	GPtrArray *fields; /* (element-type StdiolinkFieldMeta) */
	StdiolinkFieldMeta *items;
	GStrv required_keys;
	gboolean additional_properties;
};

struct _StdiolinkSchema {
	gatomicrefcount ref_count;
	GPtrArray *fields; /* (element-type StdiolinkFieldMeta) */
	GStrv warnings;
};

static const struct {
	const char *name;
	StdiolinkFieldType type;
} type_names[] = {
	{"string", STDIOLINK_FIELD_STRING},
	{"int", STDIOLINK_FIELD_INT},
	{"integer", STDIOLINK_FIELD_INT},
	{"int64", STDIOLINK_FIELD_INT64},
	{"double", STDIOLINK_FIELD_DOUBLE},
	{"number", STDIOLINK_FIELD_DOUBLE},
	{"bool", STDIOLINK_FIELD_BOOL},
	{"boolean", STDIOLINK_FIELD_BOOL},
	{"object", STDIOLINK_FIELD_OBJECT},
	{"array", STDIOLINK_FIELD_ARRAY},
	{"enum", STDIOLINK_FIELD_ENUM},
	{"any", STDIOLINK_FIELD_ANY},
};

/**
 * stdiolink_field_type_to_string:
 * @type: a #StdiolinkFieldType
 *
 * Returns: the canonical name (`string`, `int`, `int64`, `double`, `bool`, `object`,
 *   `array`, `enum`, `any`)
 */
const char *
stdiolink_field_type_to_string(StdiolinkFieldType type)
{
	switch (type) {
	case STDIOLINK_FIELD_STRING:
		return "string";
	case STDIOLINK_FIELD_INT:
		return "int";
	case STDIOLINK_FIELD_INT64:
		return "int64";
	case STDIOLINK_FIELD_DOUBLE:
		return "double";
	case STDIOLINK_FIELD_BOOL:
		return "bool";
	case STDIOLINK_FIELD_OBJECT:
		return "object";
	case STDIOLINK_FIELD_ARRAY:
		return "array";
	case STDIOLINK_FIELD_ENUM:
		return "enum";
	case STDIOLINK_FIELD_ANY:
	default:
		return "any";
	}
}

/**
 * stdiolink_field_type_from_string:
 * @name: a type name; canonical names and the aliases `integer`, `number`, `boolean`
 * @type: (out): the type; %STDIOLINK_FIELD_ANY when @name is unknown
 *
 * Names are case-sensitive.
 *
 * Returns: %TRUE if @name is a known type name
 */
gboolean
stdiolink_field_type_from_string(const char *name, StdiolinkFieldType *type)
{
	for (guint i = 0; i < G_N_ELEMENTS(type_names); i++) {
		if (g_strcmp0(name, type_names[i].name) == 0) {
			*type = type_names[i].type;
			return TRUE;
		}
	}
	*type = STDIOLINK_FIELD_ANY;
	return FALSE;
}

/* json helpers ---------------------------------------------------------------------------- */

static JsonNode *deep_copy(JsonNode *node);

static JsonObject *
deep_copy_object(JsonObject *object)
{
	JsonObject *copy = json_object_new();
	g_autoptr(GList) names = stdiolink_json_object_get_ordered_members(object);

	for (GList *l = names; l != NULL; l = l->next) {
		json_object_set_member(copy, l->data,
				       deep_copy(json_object_get_member(object, l->data)));
	}
	return copy;
}

static JsonArray *
deep_copy_array(JsonArray *array)
{
	guint n = json_array_get_length(array);
	JsonArray *copy = json_array_sized_new(n);

	for (guint i = 0; i < n; i++)
		json_array_add_element(copy, deep_copy(json_array_get_element(array, i)));
	return copy;
}

static JsonNode *
deep_copy_value(JsonNode *node)
{
	GType type = json_node_get_value_type(node);
	JsonNode *copy = json_node_alloc();

	/* new values, not json_node_copy(): that shares the JsonValue with a plain refcount,
	 * and schemas are read from several threads at once */
	if (type == G_TYPE_STRING)
		return json_node_init_string(copy, json_node_get_string(node));
	if (type == G_TYPE_BOOLEAN)
		return json_node_init_boolean(copy, json_node_get_boolean(node));
	if (type == G_TYPE_DOUBLE || type == G_TYPE_FLOAT)
		return json_node_init_double(copy, json_node_get_double(node));
	return json_node_init_int(copy, json_node_get_int(node));
}

/* a fresh, mutable copy of the whole tree (json_node_copy() shares objects and arrays) */
static JsonNode *
deep_copy(JsonNode *node)
{
	JsonNode *copy;

	if (node == NULL)
		return json_node_new(JSON_NODE_NULL);

	switch (json_node_get_node_type(node)) {
	case JSON_NODE_OBJECT:
		copy = json_node_new(JSON_NODE_OBJECT);
		json_node_take_object(copy, deep_copy_object(json_node_get_object(node)));
		return copy;
	case JSON_NODE_ARRAY:
		copy = json_node_new(JSON_NODE_ARRAY);
		json_node_take_array(copy, deep_copy_array(json_node_get_array(node)));
		return copy;
	case JSON_NODE_VALUE:
		return deep_copy_value(node);
	case JSON_NODE_NULL:
	default:
		return json_node_new(JSON_NODE_NULL);
	}
}

static JsonNode *
node_take_array(JsonArray *array)
{
	JsonNode *node = json_node_new(JSON_NODE_ARRAY);

	json_node_take_array(node, array);
	return node;
}

static gboolean
node_is_object(JsonNode *node)
{
	return node != NULL && JSON_NODE_HOLDS_OBJECT(node);
}

static gboolean
node_is_array(JsonNode *node)
{
	return node != NULL && JSON_NODE_HOLDS_ARRAY(node);
}

/* coercions shared by both encodings (schema.md 2.2, 2.3) ---------------------------------- */

static const char *
read_string(JsonObject *object, const char *member)
{
	const char *value = stdiolink_json_object_get_string(object, member);

	return value != NULL ? value : "";
}

static gboolean
read_bool(JsonObject *object, const char *member, gboolean fallback)
{
	JsonNode *node = json_object_get_member(object, member);

	return stdiolink_json_node_is_bool(node) ? json_node_get_boolean(node) : fallback;
}

/* an integral number within int range, else 0 */
static int
coerce_int(JsonNode *node)
{
	double value = stdiolink_json_node_get_number(node);

	if (!stdiolink_json_node_is_number(node) || value != trunc(value) ||
	    value < G_MININT || value > G_MAXINT)
		return 0;
	return (int)value;
}

/* absent = no bound; present with any value = a bound (non-number -> 0) */
static gboolean
read_double_bound(JsonObject *object, const char *member, double *out)
{
	if (!json_object_has_member(object, member))
		return FALSE;
	*out = stdiolink_json_node_get_number(json_object_get_member(object, member));
	return TRUE;
}

static gboolean
read_int_bound(JsonObject *object, const char *member, int *out)
{
	if (!json_object_has_member(object, member))
		return FALSE;
	*out = coerce_int(json_object_get_member(object, member));
	return TRUE;
}

/* "default": null means no default */
static JsonNode *
read_default(JsonObject *object)
{
	JsonNode *node = json_object_get_member(object, "default");

	if (node == NULL || JSON_NODE_HOLDS_NULL(node))
		return NULL;
	return deep_copy(node);
}

static GStrv
read_required_keys(JsonNode *node)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

	if (node_is_array(node)) {
		JsonArray *array = json_node_get_array(node);

		for (guint i = 0; i < json_array_get_length(array); i++) {
			JsonNode *element = json_array_get_element(array, i);

			if (stdiolink_json_node_is_string(element))
				g_strv_builder_add(builder, json_node_get_string(element));
		}
	}
	return g_strv_builder_end(builder);
}

static void
read_enum_values(StdiolinkFieldMeta *meta, JsonNode *node)
{
	JsonArray *array;

	if (!node_is_array(node))
		return;
	array = json_node_get_array(node);
	for (guint i = 0; i < json_array_get_length(array); i++)
		g_ptr_array_add(meta->enum_values, deep_copy(json_array_get_element(array, i)));
}

static void
read_pattern(StdiolinkFieldMeta *meta, JsonObject *object)
{
	g_free(meta->pattern);
	meta->pattern = g_strdup(read_string(object, "pattern"));

	/* compiled once here; a pattern that does not compile never matches (regex stays NULL) */
	if (meta->pattern[0] != '\0')
		meta->regex = g_regex_new(meta->pattern, 0, 0, NULL);
}

/* @enum_node: the allowed values (encoding A has already picked `enumValues` over `enum`) */
static void
read_constraints(StdiolinkFieldMeta *meta, JsonObject *object, JsonNode *enum_node)
{
	meta->has_min = read_double_bound(object, "min", &meta->min);
	meta->has_max = read_double_bound(object, "max", &meta->max);
	meta->has_min_length = read_int_bound(object, "minLength", &meta->min_length);
	meta->has_max_length = read_int_bound(object, "maxLength", &meta->max_length);
	meta->has_min_items = read_int_bound(object, "minItems", &meta->min_items);
	meta->has_max_items = read_int_bound(object, "maxItems", &meta->max_items);
	read_pattern(meta, object);
	g_free(meta->format);
	meta->format = g_strdup(read_string(object, "format"));
	read_enum_values(meta, enum_node);
}

/* field meta ------------------------------------------------------------------------------ */

static StdiolinkFieldMeta *
field_meta_new(const char *name)
{
	StdiolinkFieldMeta *meta = g_new0(StdiolinkFieldMeta, 1);

	g_atomic_ref_count_init(&meta->ref_count);
	meta->name = g_strdup(name);
	meta->type = STDIOLINK_FIELD_ANY;
	meta->description = g_strdup("");
	meta->pattern = g_strdup("");
	meta->format = g_strdup("");
	meta->enum_values = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
	meta->fields = g_ptr_array_new_with_free_func((GDestroyNotify)stdiolink_field_meta_unref);
	meta->required_keys = g_new0(char *, 1);
	meta->additional_properties = TRUE;
	return meta;
}

/**
 * stdiolink_field_meta_ref: (skip)
 * @meta: a field descriptor
 *
 * Returns: (transfer full): @meta
 */
StdiolinkFieldMeta *
stdiolink_field_meta_ref(StdiolinkFieldMeta *meta)
{
	g_return_val_if_fail(meta != NULL, NULL);

	g_atomic_ref_count_inc(&meta->ref_count);
	return meta;
}

/**
 * stdiolink_field_meta_unref:
 * @meta: (nullable): a field descriptor
 *
 * Drops a reference; the last one frees @meta.
 */
void
stdiolink_field_meta_unref(StdiolinkFieldMeta *meta)
{
	if (meta == NULL || !g_atomic_ref_count_dec(&meta->ref_count))
		return;

	g_free(meta->name);
	g_clear_pointer(&meta->default_value, json_node_unref);
	g_free(meta->description);
	g_free(meta->pattern);
	g_clear_pointer(&meta->regex, g_regex_unref);
	g_free(meta->format);
	g_ptr_array_unref(meta->enum_values);
	g_clear_pointer(&meta->ui, json_object_unref);
	g_ptr_array_unref(meta->fields);
	g_clear_pointer(&meta->items, stdiolink_field_meta_unref);
	g_strfreev(meta->required_keys);
	g_free(meta);
}

/**
 * stdiolink_ui_hint_normalize:
 * @node: (nullable): a UIHint object (schema.md 3.1); anything else reads as `{}`
 *
 * Reads a UIHint with the usual coercions (`order` non-integral -> 0, `step` non-number
 * -> 0, non-string strings -> "", non-bool flags -> false) and writes back only the keys
 * that are set. Used for field and command `ui`.
 *
 * Returns: (transfer full) (nullable): the normalized hint, or %NULL when no hint is set
 */
JsonObject *
stdiolink_ui_hint_normalize(JsonNode *node)
{
	static const char *const string_keys[] = {
		"widget", "group", "placeholder", "visibleIf", "unit",
	};
	static const char *const bool_keys[] = {"advanced", "readonly"};
	g_autoptr(JsonObject) hint = json_object_new();
	JsonObject *in;
	int order;
	double step;

	if (!node_is_object(node))
		return NULL;
	in = json_node_get_object(node);

	for (guint i = 0; i < G_N_ELEMENTS(string_keys); i++) {
		const char *value = read_string(in, string_keys[i]);

		if (value[0] != '\0')
			json_object_set_string_member(hint, string_keys[i], value);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bool_keys); i++) {
		if (read_bool(in, bool_keys[i], FALSE))
			json_object_set_boolean_member(hint, bool_keys[i], TRUE);
	}
	order = coerce_int(json_object_get_member(in, "order"));
	if (order != 0)
		json_object_set_int_member(hint, "order", order);
	step = stdiolink_json_node_get_number(json_object_get_member(in, "step"));
	if (step != 0)
		json_object_set_double_member(hint, "step", step);

	if (json_object_get_size(hint) == 0)
		return NULL;
	return g_steal_pointer(&hint);
}

static StdiolinkFieldMeta *
field_meta_new_from_node(JsonNode *node)
{
	g_autoptr(JsonObject) empty = json_object_new();

	return stdiolink_field_meta_new_from_json(node_is_object(node) ? json_node_get_object(node)
								       : empty);
}

/**
 * stdiolink_fields_new_from_json:
 * @node: (nullable): an array of FieldMeta objects (encoding B)
 *
 * Lenient: a non-array gives an empty list, a non-object entry an unnamed `any` field.
 *
 * Returns: (transfer full) (element-type StdiolinkFieldMeta): the fields in array order
 */
GPtrArray *
stdiolink_fields_new_from_json(JsonNode *node)
{
	GPtrArray *fields =
		g_ptr_array_new_with_free_func((GDestroyNotify)stdiolink_field_meta_unref);
	JsonArray *array;

	if (!node_is_array(node))
		return fields;
	array = json_node_get_array(node);
	for (guint i = 0; i < json_array_get_length(array); i++)
		g_ptr_array_add(fields, field_meta_new_from_node(json_array_get_element(array, i)));
	return fields;
}

/**
 * stdiolink_field_meta_new_from_json: (skip)
 * @object: a FieldMeta object (encoding B, schema.md 3), as found in driver meta
 *
 * Lenient: never fails. A missing or unknown `type` becomes `any`; other keys are read with
 * the coercions of schema.md 2.2 / 2.3; `fields` is an array, `items` an object, and the
 * constraint keys sit at the top level of @object.
 *
 * Returns: (transfer full): the descriptor
 */
StdiolinkFieldMeta *
stdiolink_field_meta_new_from_json(JsonObject *object)
{
	StdiolinkFieldMeta *meta;
	const char *type_name;

	g_return_val_if_fail(object != NULL, NULL);

	meta = field_meta_new(read_string(object, "name"));
	type_name = stdiolink_json_object_get_string(object, "type");
	stdiolink_field_type_from_string(type_name, &meta->type);
	meta->required = read_bool(object, "required", FALSE);
	meta->default_value = read_default(object);
	g_free(meta->description);
	meta->description = g_strdup(read_string(object, "description"));
	read_constraints(meta, object, json_object_get_member(object, "enum"));
	meta->ui = stdiolink_ui_hint_normalize(json_object_get_member(object, "ui"));

	/* children */
	g_ptr_array_unref(meta->fields);
	meta->fields = stdiolink_fields_new_from_json(json_object_get_member(object, "fields"));
	if (json_object_has_member(object, "items"))
		meta->items = field_meta_new_from_node(json_object_get_member(object, "items"));

	g_strfreev(meta->required_keys);
	meta->required_keys = read_required_keys(json_object_get_member(object, "requiredKeys"));
	meta->additional_properties = read_bool(object, "additionalProperties", TRUE);
	return meta;
}

static void
constraints_to_json(StdiolinkFieldMeta *meta, JsonObject *out)
{
	if (meta->has_min)
		json_object_set_double_member(out, "min", meta->min);
	if (meta->has_max)
		json_object_set_double_member(out, "max", meta->max);
	if (meta->has_min_length)
		json_object_set_int_member(out, "minLength", meta->min_length);
	if (meta->has_max_length)
		json_object_set_int_member(out, "maxLength", meta->max_length);
	if (meta->has_min_items)
		json_object_set_int_member(out, "minItems", meta->min_items);
	if (meta->has_max_items)
		json_object_set_int_member(out, "maxItems", meta->max_items);
	if (meta->pattern[0] != '\0')
		json_object_set_string_member(out, "pattern", meta->pattern);
	if (meta->format[0] != '\0')
		json_object_set_string_member(out, "format", meta->format);
	if (meta->enum_values->len > 0) {
		JsonArray *values = json_array_sized_new(meta->enum_values->len);

		for (guint i = 0; i < meta->enum_values->len; i++)
			json_array_add_element(values, deep_copy(meta->enum_values->pdata[i]));
		json_object_set_array_member(out, "enum", values);
	}
}

static void
structure_to_json(StdiolinkFieldMeta *meta, JsonObject *out)
{
	if (meta->fields->len > 0)
		json_object_set_member(out, "fields", stdiolink_fields_to_json(meta->fields));
	if (meta->items != NULL)
		json_object_set_member(out, "items", stdiolink_field_meta_to_json(meta->items));
	if (meta->required_keys[0] != NULL) {
		JsonArray *keys = json_array_new();

		for (guint i = 0; meta->required_keys[i] != NULL; i++)
			json_array_add_string_element(keys, meta->required_keys[i]);
		json_object_set_array_member(out, "requiredKeys", keys);
	}
	if (!meta->additional_properties)
		json_object_set_boolean_member(out, "additionalProperties", FALSE);
}

/**
 * stdiolink_field_meta_to_json:
 * @meta: a field descriptor
 *
 * Writes encoding B (schema.md 3): keys are omitted unless set, constraints are flat,
 * `fields` keeps child order.
 *
 * Returns: (transfer full): a new object node
 */
JsonNode *
stdiolink_field_meta_to_json(StdiolinkFieldMeta *meta)
{
	JsonObject *out;

	g_return_val_if_fail(meta != NULL, NULL);

	out = json_object_new();
	if (meta->name[0] != '\0')
		json_object_set_string_member(out, "name", meta->name);
	json_object_set_string_member(out, "type", stdiolink_field_type_to_string(meta->type));
	if (meta->required)
		json_object_set_boolean_member(out, "required", TRUE);
	if (meta->default_value != NULL)
		json_object_set_member(out, "default", deep_copy(meta->default_value));
	if (meta->description[0] != '\0')
		json_object_set_string_member(out, "description", meta->description);
	constraints_to_json(meta, out);
	if (meta->ui != NULL)
		json_object_set_object_member(out, "ui", deep_copy_object(meta->ui));
	structure_to_json(meta, out);
	return stdiolink_json_node_new_object(out);
}

/**
 * stdiolink_fields_to_json:
 * @fields: (element-type StdiolinkFieldMeta): descriptors
 *
 * Returns: (transfer full): an array node of encoding B objects, in the order of @fields
 */
JsonNode *
stdiolink_fields_to_json(GPtrArray *fields)
{
	JsonArray *array = json_array_sized_new(fields->len);

	for (guint i = 0; i < fields->len; i++)
		json_array_add_element(array, stdiolink_field_meta_to_json(fields->pdata[i]));
	return node_take_array(array);
}

/**
 * stdiolink_field_meta_get_name:
 * @meta: a field descriptor
 *
 * Returns: the field name; "" when unnamed; an `items` descriptor of encoding A carries
 *   the name of its array field
 */
const char *
stdiolink_field_meta_get_name(StdiolinkFieldMeta *meta)
{
	return meta->name;
}

/**
 * stdiolink_field_meta_get_field_type:
 * @meta: a field descriptor
 *
 * Returns: the field type
 */
StdiolinkFieldType
stdiolink_field_meta_get_field_type(StdiolinkFieldMeta *meta)
{
	return meta->type;
}

/**
 * stdiolink_field_meta_get_required:
 * @meta: a field descriptor
 *
 * Returns: whether the field must be present
 */
gboolean
stdiolink_field_meta_get_required(StdiolinkFieldMeta *meta)
{
	return meta->required;
}

/**
 * stdiolink_field_meta_get_default:
 * @meta: a field descriptor
 *
 * Returns: (transfer none) (nullable): the default value, %NULL when there is none (a JSON
 *   `null` default counts as none); shared between threads: copy it, never modify it
 */
JsonNode *
stdiolink_field_meta_get_default(StdiolinkFieldMeta *meta)
{
	return meta->default_value;
}

/**
 * stdiolink_field_meta_get_description:
 * @meta: a field descriptor
 *
 * Returns: the description, "" when none
 */
const char *
stdiolink_field_meta_get_description(StdiolinkFieldMeta *meta)
{
	return meta->description;
}

/**
 * stdiolink_field_meta_get_min:
 * @meta: a field descriptor
 * @min: (out) (optional): the lower numeric bound
 *
 * Returns: %TRUE if the bound is set
 */
gboolean
stdiolink_field_meta_get_min(StdiolinkFieldMeta *meta, double *min)
{
	if (meta->has_min && min != NULL)
		*min = meta->min;
	return meta->has_min;
}

/**
 * stdiolink_field_meta_get_max:
 * @meta: a field descriptor
 * @max: (out) (optional): the upper numeric bound
 *
 * Returns: %TRUE if the bound is set
 */
gboolean
stdiolink_field_meta_get_max(StdiolinkFieldMeta *meta, double *max)
{
	if (meta->has_max && max != NULL)
		*max = meta->max;
	return meta->has_max;
}

/**
 * stdiolink_field_meta_get_min_length:
 * @meta: a field descriptor
 * @min_length: (out) (optional): the minimum string length in UTF-16 code units
 *
 * Returns: %TRUE if the bound is set
 */
gboolean
stdiolink_field_meta_get_min_length(StdiolinkFieldMeta *meta, int *min_length)
{
	if (meta->has_min_length && min_length != NULL)
		*min_length = meta->min_length;
	return meta->has_min_length;
}

/**
 * stdiolink_field_meta_get_max_length:
 * @meta: a field descriptor
 * @max_length: (out) (optional): the maximum string length in UTF-16 code units
 *
 * Returns: %TRUE if the bound is set
 */
gboolean
stdiolink_field_meta_get_max_length(StdiolinkFieldMeta *meta, int *max_length)
{
	if (meta->has_max_length && max_length != NULL)
		*max_length = meta->max_length;
	return meta->has_max_length;
}

/**
 * stdiolink_field_meta_get_min_items:
 * @meta: a field descriptor
 * @min_items: (out) (optional): the minimum array length
 *
 * Returns: %TRUE if the bound is set
 */
gboolean
stdiolink_field_meta_get_min_items(StdiolinkFieldMeta *meta, int *min_items)
{
	if (meta->has_min_items && min_items != NULL)
		*min_items = meta->min_items;
	return meta->has_min_items;
}

/**
 * stdiolink_field_meta_get_max_items:
 * @meta: a field descriptor
 * @max_items: (out) (optional): the maximum array length
 *
 * Returns: %TRUE if the bound is set
 */
gboolean
stdiolink_field_meta_get_max_items(StdiolinkFieldMeta *meta, int *max_items)
{
	if (meta->has_max_items && max_items != NULL)
		*max_items = meta->max_items;
	return meta->has_max_items;
}

/**
 * stdiolink_field_meta_get_pattern:
 * @meta: a field descriptor
 *
 * Returns: the regular expression, "" when none
 */
const char *
stdiolink_field_meta_get_pattern(StdiolinkFieldMeta *meta)
{
	return meta->pattern;
}

/**
 * stdiolink_field_meta_get_format:
 * @meta: a field descriptor
 *
 * Returns: the informational format, "" when none
 */
const char *
stdiolink_field_meta_get_format(StdiolinkFieldMeta *meta)
{
	return meta->format;
}

/**
 * stdiolink_field_meta_get_enum_values:
 * @meta: a field descriptor
 *
 * Returns: (transfer none) (element-type JsonNode): the allowed values, maybe empty
 */
GPtrArray *
stdiolink_field_meta_get_enum_values(StdiolinkFieldMeta *meta)
{
	return meta->enum_values;
}

/**
 * stdiolink_field_meta_get_fields:
 * @meta: a field descriptor
 *
 * Returns: (transfer none) (element-type StdiolinkFieldMeta): the declared child fields of
 *   an object, in source order, maybe empty
 */
GPtrArray *
stdiolink_field_meta_get_fields(StdiolinkFieldMeta *meta)
{
	return meta->fields;
}

/**
 * stdiolink_field_meta_get_items:
 * @meta: a field descriptor
 *
 * Returns: (transfer none) (nullable): the array element descriptor
 */
StdiolinkFieldMeta *
stdiolink_field_meta_get_items(StdiolinkFieldMeta *meta)
{
	return meta->items;
}

/**
 * stdiolink_field_meta_get_required_keys:
 * @meta: a field descriptor
 *
 * Returns: (transfer none): the keys an object must have, %NULL-terminated, maybe empty
 */
const char * const *
stdiolink_field_meta_get_required_keys(StdiolinkFieldMeta *meta)
{
	return (const char * const *)meta->required_keys;
}

/**
 * stdiolink_field_meta_get_additional_properties:
 * @meta: a field descriptor
 *
 * Parsed and echoed, never enforced.
 *
 * Returns: the `additionalProperties` flag
 */
gboolean
stdiolink_field_meta_get_additional_properties(StdiolinkFieldMeta *meta)
{
	return meta->additional_properties;
}

/* encoding A: strict parse (schema.md 2) -------------------------------------------------- */

static GPtrArray *parse_descriptors(JsonObject *object,
				    const char *prefix,
				    GPtrArray *warnings,
				    GError **error);

static gboolean
read_type_strict(StdiolinkFieldMeta *meta, JsonObject *desc, const char *path, GError **error)
{
	const char *type_name = stdiolink_json_object_get_string(desc, "type");

	/* a missing or non-string type means any; only an unknown name is an error */
	if (type_name == NULL)
		return TRUE;
	if (!stdiolink_field_type_from_string(type_name, &meta->type)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "unknown field type \"%s\" for field \"%s\"", type_name, path);
		return FALSE;
	}
	return TRUE;
}

static void
read_constraints_a(StdiolinkFieldMeta *meta, JsonObject *desc)
{
	JsonNode *node = json_object_get_member(desc, "constraints");
	JsonObject *constraints;
	JsonNode *enum_node;

	if (!node_is_object(node))
		return;
	constraints = json_node_get_object(node);

	/* `enumValues` is renamed `enum` and wins over it, whatever its JSON type */
	if (json_object_has_member(constraints, "enumValues"))
		enum_node = json_object_get_member(constraints, "enumValues");
	else
		enum_node = json_object_get_member(constraints, "enum");
	read_constraints(meta, constraints, enum_node);
}

static gboolean
parse_children(StdiolinkFieldMeta *meta,
	       JsonObject *desc,
	       const char *path,
	       GPtrArray *warnings,
	       GError **error)
{
	JsonNode *node = json_object_get_member(desc, "fields");
	GPtrArray *fields;

	if (node == NULL)
		return TRUE;
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "\"fields\" for field \"%s\" must be a JSON object", path);
		return FALSE;
	}
	fields = parse_descriptors(json_node_get_object(node), path, warnings, error);
	if (fields == NULL)
		return FALSE;
	g_ptr_array_unref(meta->fields);
	meta->fields = fields;
	return TRUE;
}

static StdiolinkFieldMeta *parse_descriptor(const char *name,
					    JsonObject *desc,
					    const char *path,
					    GPtrArray *warnings,
					    GError **error);

static gboolean
parse_items(StdiolinkFieldMeta *meta,
	    JsonObject *desc,
	    const char *path,
	    GPtrArray *warnings,
	    GError **error)
{
	JsonNode *node = json_object_get_member(desc, "items");
	g_autofree char *items_path = NULL;

	if (node == NULL)
		return TRUE;
	if (!JSON_NODE_HOLDS_OBJECT(node)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "\"items\" for field \"%s\" must be a JSON object", path);
		return FALSE;
	}

	/* the element descriptor carries the array's name; its path gains `.items` */
	items_path = g_strconcat(path, ".items", NULL);
	meta->items = parse_descriptor(meta->name, json_node_get_object(node), items_path,
				       warnings, error);
	return meta->items != NULL;
}

static StdiolinkFieldMeta *
parse_descriptor(const char *name,
		 JsonObject *desc,
		 const char *path,
		 GPtrArray *warnings,
		 GError **error)
{
	g_autoptr(StdiolinkFieldMeta) meta = field_meta_new(name);

	if (!read_type_strict(meta, desc, path, error))
		return NULL;

	meta->required = read_bool(desc, "required", FALSE);
	meta->default_value = read_default(desc);
	g_free(meta->description);
	meta->description = g_strdup(read_string(desc, "description"));
	meta->additional_properties = read_bool(desc, "additionalProperties", TRUE);
	read_constraints_a(meta, desc);
	g_strfreev(meta->required_keys);
	meta->required_keys = read_required_keys(json_object_get_member(desc, "requiredKeys"));

	/* a top-level "enum" is ignored, as the earlier server did, but not silently */
	if (json_object_has_member(desc, "enum")) {
		g_ptr_array_add(warnings, g_strdup_printf("field \"%s\": top-level \"enum\" is "
							  "ignored; put it in \"constraints\" "
							  "with type \"enum\"",
							  path));
	}

	if (!parse_children(meta, desc, path, warnings, error))
		return NULL;
	if (!parse_items(meta, desc, path, warnings, error))
		return NULL;
	return g_steal_pointer(&meta);
}

/* @prefix: the dotted path of the owning field, or %NULL at the top level */
static GPtrArray *
parse_descriptors(JsonObject *object, const char *prefix, GPtrArray *warnings, GError **error)
{
	g_autoptr(GPtrArray) fields =
		g_ptr_array_new_with_free_func((GDestroyNotify)stdiolink_field_meta_unref);
	g_autoptr(GList) names = stdiolink_json_object_get_ordered_members(object);

	for (GList *l = names; l != NULL; l = l->next) {
		const char *name = l->data;
		JsonNode *node = json_object_get_member(object, name);
		g_autofree char *path = prefix != NULL ? g_strconcat(prefix, ".", name, NULL)
						       : g_strdup(name);
		StdiolinkFieldMeta *meta;

		if (!JSON_NODE_HOLDS_OBJECT(node)) {
			g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "field descriptor for \"%s\" must be a JSON object", path);
			return NULL;
		}
		meta = parse_descriptor(name, json_node_get_object(node), path, warnings, error);
		if (meta == NULL)
			return NULL;
		g_ptr_array_add(fields, meta);
	}
	return g_steal_pointer(&fields);
}

/* schema ---------------------------------------------------------------------------------- */

/**
 * stdiolink_schema_new_from_json: (skip)
 * @root: the schema object (encoding A): field name -> descriptor
 * @error: return location for a #GError
 *
 * Strict parse (schema.md 2): fields in the order of the source text, depth first; the first
 * error aborts with %STDIOLINK_ERROR_BAD_REQUEST and one of the messages of schema.md 2.5.
 * Ignored top-level `enum` keys are reported by stdiolink_schema_get_warnings().
 *
 * Returns: (transfer full): the schema, or %NULL with @error set
 */
StdiolinkSchema *
stdiolink_schema_new_from_json(JsonObject *root, GError **error)
{
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) fields = NULL;
	StdiolinkSchema *schema;

	g_return_val_if_fail(root != NULL, NULL);

	fields = parse_descriptors(root, NULL, warnings, error);
	if (fields == NULL)
		return NULL;

	schema = g_new0(StdiolinkSchema, 1);
	g_atomic_ref_count_init(&schema->ref_count);
	schema->fields = g_steal_pointer(&fields);
	g_ptr_array_add(warnings, NULL);
	schema->warnings = (GStrv)g_ptr_array_steal(warnings, NULL);
	return schema;
}

/**
 * stdiolink_schema_new_from_file: (skip)
 * @path: a `config.schema.json`
 * @error: return location for a #GError
 *
 * Reads and strictly parses a schema file. Every failure is %STDIOLINK_ERROR_INVALID_DATA:
 * `cannot open config schema file: <path>`, `config.schema.json parse error: <message>`,
 * `config.schema.json must be a JSON object`, or a message of schema.md 2.5. Safe to call
 * from a worker thread.
 *
 * Returns: (transfer full): the schema, or %NULL with @error set
 */
StdiolinkSchema *
stdiolink_schema_new_from_file(const char *path, GError **error)
{
	g_autofree char *contents = NULL;
	gsize length = 0;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GError) local_error = NULL;
	StdiolinkSchema *schema;

	if (!g_file_get_contents(path, &contents, &length, NULL)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INVALID_DATA,
			    "cannot open config schema file: %s", path);
		return NULL;
	}

	root = stdiolink_json_parse(contents, (gssize)length, &local_error);
	if (root == NULL) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INVALID_DATA,
			    "config.schema.json parse error: %s", local_error->message);
		return NULL;
	}
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INVALID_DATA,
				    "config.schema.json must be a JSON object");
		return NULL;
	}

	schema = stdiolink_schema_new_from_json(json_node_get_object(root), &local_error);
	if (schema == NULL) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INVALID_DATA,
				    local_error->message);
		return NULL;
	}
	return schema;
}

/**
 * stdiolink_schema_ref: (skip)
 * @schema: a schema
 *
 * Returns: (transfer full): @schema
 */
StdiolinkSchema *
stdiolink_schema_ref(StdiolinkSchema *schema)
{
	g_return_val_if_fail(schema != NULL, NULL);

	g_atomic_ref_count_inc(&schema->ref_count);
	return schema;
}

/**
 * stdiolink_schema_unref:
 * @schema: (nullable): a schema
 *
 * Drops a reference; the last one frees @schema.
 */
void
stdiolink_schema_unref(StdiolinkSchema *schema)
{
	if (schema == NULL || !g_atomic_ref_count_dec(&schema->ref_count))
		return;

	g_ptr_array_unref(schema->fields);
	g_strfreev(schema->warnings);
	g_free(schema);
}

/**
 * stdiolink_schema_get_fields:
 * @schema: a schema
 *
 * Returns: (transfer none) (element-type StdiolinkFieldMeta): top-level fields, file order
 */
GPtrArray *
stdiolink_schema_get_fields(StdiolinkSchema *schema)
{
	return schema->fields;
}

static StdiolinkFieldMeta *
find_field(GPtrArray *fields, const char *name)
{
	for (guint i = 0; i < fields->len; i++) {
		StdiolinkFieldMeta *meta = fields->pdata[i];

		if (g_str_equal(meta->name, name))
			return meta;
	}
	return NULL;
}

/**
 * stdiolink_schema_find_field:
 * @schema: a schema
 * @name: a top-level field name
 *
 * Returns: (transfer none) (nullable): the field
 */
StdiolinkFieldMeta *
stdiolink_schema_find_field(StdiolinkSchema *schema, const char *name)
{
	return find_field(schema->fields, name);
}

/**
 * stdiolink_schema_to_json:
 * @schema: a schema
 *
 * Returns: (transfer full): the fields in encoding B (`configSchemaFields`, the
 *   validate-schema `fields`), an array node in file order
 */
JsonNode *
stdiolink_schema_to_json(StdiolinkSchema *schema)
{
	return stdiolink_fields_to_json(schema->fields);
}

/**
 * stdiolink_schema_get_warnings:
 * @schema: a schema
 *
 * Returns: (transfer none): texts about parts of the schema that are ignored, such as
 *   `field "mode": top-level "enum" is ignored; put it in "constraints" with type "enum"`;
 *   %NULL-terminated, maybe empty
 */
const char * const *
stdiolink_schema_get_warnings(StdiolinkSchema *schema)
{
	return (const char * const *)schema->warnings;
}

/**
 * stdiolink_schema_generate_defaults:
 * @schema: a schema
 *
 * Returns: (transfer full): the top-level fields that have a non-null default, set to it
 *   (no nesting, http-api 4.7)
 */
JsonObject *
stdiolink_schema_generate_defaults(StdiolinkSchema *schema)
{
	JsonObject *config = json_object_new();

	for (guint i = 0; i < schema->fields->len; i++) {
		StdiolinkFieldMeta *meta = schema->fields->pdata[i];

		if (meta->default_value != NULL)
			json_object_set_member(config, meta->name, deep_copy(meta->default_value));
	}
	return config;
}

static GStrv
field_names(StdiolinkSchema *schema, gboolean required)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

	for (guint i = 0; i < schema->fields->len; i++) {
		StdiolinkFieldMeta *meta = schema->fields->pdata[i];

		if (meta->required == required)
			g_strv_builder_add(builder, meta->name);
	}
	return g_strv_builder_end(builder);
}

/**
 * stdiolink_schema_get_required_fields:
 * @schema: a schema
 *
 * Returns: (transfer full): top-level required field names, file order
 */
GStrv
stdiolink_schema_get_required_fields(StdiolinkSchema *schema)
{
	return field_names(schema, TRUE);
}

/**
 * stdiolink_schema_get_optional_fields:
 * @schema: a schema
 *
 * Returns: (transfer full): the other top-level field names, file order
 */
GStrv
stdiolink_schema_get_optional_fields(StdiolinkSchema *schema)
{
	return field_names(schema, FALSE);
}

/* validation (schema.md 5) ---------------------------------------------------------------- */

typedef struct {
	char *field;
	char *message;
} Failure;

/* records the first failure; takes @message; always returns FALSE */
static gboolean
fail(Failure *failure, const char *field, char *message)
{
	failure->field = g_strdup(field);
	failure->message = message;
	return FALSE;
}

/* C `%g`, independent of the locale */
static char *
format_g(double value)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	return g_strdup(g_ascii_formatd(buf, sizeof(buf), "%g", value));
}

/* the earlier server counted string length in UTF-16 code units */
static glong
utf16_length(const char *s)
{
	glong length = 0;

	for (const char *p = s; *p != '\0'; p = g_utf8_next_char(p))
		length += g_utf8_get_char(p) > 0xffff ? 2 : 1;
	return length;
}

static const char *
check_int(JsonNode *value)
{
	double number = stdiolink_json_node_get_number(value);

	if (!stdiolink_json_node_is_number(value))
		return "expected integer";
	if (number != trunc(number) || number < G_MININT32 || number > G_MAXINT32)
		return "expected integer, got decimal";
	return NULL;
}

static const char *
check_int64(JsonNode *value)
{
	if (!stdiolink_json_node_is_number(value))
		return "expected integer";
	if (fabs(stdiolink_json_node_get_number(value)) > SAFE_INTEGER_LIMIT)
		return "integer out of safe range";
	return NULL;
}

/* schema.md 1: returns the failure text or %NULL */
static const char *
check_type(JsonNode *value, StdiolinkFieldType type)
{
	switch (type) {
	case STDIOLINK_FIELD_STRING:
		return stdiolink_json_node_is_string(value) ? NULL : "expected string";
	case STDIOLINK_FIELD_INT:
		return check_int(value);
	case STDIOLINK_FIELD_INT64:
		return check_int64(value);
	case STDIOLINK_FIELD_DOUBLE:
		return stdiolink_json_node_is_number(value) ? NULL : "expected number";
	case STDIOLINK_FIELD_BOOL:
		return stdiolink_json_node_is_bool(value) ? NULL : "expected boolean";
	case STDIOLINK_FIELD_OBJECT:
		return node_is_object(value) ? NULL : "expected object";
	case STDIOLINK_FIELD_ARRAY:
		return node_is_array(value) ? NULL : "expected array";
	case STDIOLINK_FIELD_ENUM:
		return stdiolink_json_node_is_string(value) ? NULL : "expected string for enum";
	case STDIOLINK_FIELD_ANY:
	default:
		return NULL;
	}
}

static char *
check_number_bounds(JsonNode *value, StdiolinkFieldMeta *meta)
{
	double number = stdiolink_json_node_get_number(value);
	g_autofree char *text = NULL;
	g_autofree char *bound = NULL;

	if (!stdiolink_json_node_is_number(value))
		return NULL;
	if (meta->has_min && number < meta->min) {
		text = format_g(number);
		bound = format_g(meta->min);
		return g_strdup_printf("value %s < min %s", text, bound);
	}
	if (meta->has_max && number > meta->max) {
		text = format_g(number);
		bound = format_g(meta->max);
		return g_strdup_printf("value %s > max %s", text, bound);
	}
	return NULL;
}

static const char *
check_string(JsonNode *value, StdiolinkFieldMeta *meta)
{
	const char *text;
	glong length;

	if (!stdiolink_json_node_is_string(value))
		return NULL;
	text = json_node_get_string(value);
	length = utf16_length(text);
	if (meta->has_min_length && length < meta->min_length)
		return "string too short";
	if (meta->has_max_length && length > meta->max_length)
		return "string too long";
	if (meta->pattern[0] != '\0' &&
	    (meta->regex == NULL || !g_regex_match(meta->regex, text, 0, NULL)))
		return "pattern mismatch";
	return NULL;
}

static const char *
check_enum(JsonNode *value, StdiolinkFieldMeta *meta)
{
	/* enum lists are enforced for type enum only, whatever they are attached to */
	if (meta->type != STDIOLINK_FIELD_ENUM || meta->enum_values->len == 0)
		return NULL;
	for (guint i = 0; i < meta->enum_values->len; i++) {
		if (stdiolink_json_equal(value, meta->enum_values->pdata[i]))
			return NULL;
	}
	return "invalid enum value";
}

static const char *
check_array_length(JsonNode *value, StdiolinkFieldMeta *meta)
{
	guint length;

	if (!node_is_array(value))
		return NULL;
	length = json_array_get_length(json_node_get_array(value));
	if (meta->has_min_items && (gint64)length < meta->min_items)
		return "array too short";
	if (meta->has_max_items && (gint64)length > meta->max_items)
		return "array too long";
	return NULL;
}

/* schema.md 5.3 step 2: constraints apply by value kind, not by declared type */
static char *
check_constraints(JsonNode *value, StdiolinkFieldMeta *meta)
{
	const char *message;
	char *bounds = check_number_bounds(value, meta);

	if (bounds != NULL)
		return bounds;
	message = check_string(value, meta);
	if (message == NULL)
		message = check_enum(value, meta);
	if (message == NULL)
		message = check_array_length(value, meta);
	return g_strdup(message);
}

static gboolean validate_field(StdiolinkFieldMeta *meta, JsonNode *value, Failure *failure);

/* schema.md 5.3.1, unknown keys allowed */
static gboolean
validate_object(JsonObject *object, GPtrArray *fields, GStrv required_keys, Failure *failure)
{
	for (guint i = 0; i < fields->len; i++) {
		StdiolinkFieldMeta *child = fields->pdata[i];

		if (child->required && !json_object_has_member(object, child->name))
			return fail(failure, child->name, g_strdup("required field missing"));
	}
	for (guint i = 0; required_keys != NULL && required_keys[i] != NULL; i++) {
		if (!json_object_has_member(object, required_keys[i]))
			return fail(failure, required_keys[i], g_strdup("required key missing"));
	}
	for (guint i = 0; i < fields->len; i++) {
		StdiolinkFieldMeta *child = fields->pdata[i];
		JsonNode *value = json_object_get_member(object, child->name);

		if (value != NULL && !validate_field(child, value, failure))
			return FALSE;
	}
	return TRUE;
}

static gboolean
validate_nested_object(StdiolinkFieldMeta *meta, JsonObject *object, Failure *failure)
{
	char *path;

	if (validate_object(object, meta->fields, meta->required_keys, failure))
		return TRUE;
	path = g_strconcat(meta->name, ".", failure->field, NULL);
	g_free(failure->field);
	failure->field = path;
	return FALSE;
}

static gboolean
validate_array_items(StdiolinkFieldMeta *meta, JsonArray *array, Failure *failure)
{
	for (guint i = 0; i < json_array_get_length(array); i++) {
		if (!validate_field(meta->items, json_array_get_element(array, i), failure)) {
			/* the element path replaces whatever deeper path the item reported */
			g_free(failure->field);
			failure->field = g_strdup_printf("%s[%u]", meta->name, i);
			return FALSE;
		}
	}
	return TRUE;
}

/* schema.md 5.3 */
static gboolean
validate_field(StdiolinkFieldMeta *meta, JsonNode *value, Failure *failure)
{
	const char *type_error = check_type(value, meta->type);
	char *constraint_error;

	if (type_error != NULL)
		return fail(failure, meta->name, g_strdup(type_error));

	constraint_error = check_constraints(value, meta);
	if (constraint_error != NULL)
		return fail(failure, meta->name, constraint_error);

	if (meta->type == STDIOLINK_FIELD_OBJECT && meta->fields->len > 0)
		return validate_nested_object(meta, json_node_get_object(value), failure);
	if (meta->type == STDIOLINK_FIELD_ARRAY && meta->items != NULL)
		return validate_array_items(meta, json_node_get_array(value), failure);
	return TRUE;
}

/* schema.md 5.4: every required check comes before any field validation */
static gboolean
validate_config(JsonObject *config, GPtrArray *fields, Failure *failure)
{
	for (guint i = 0; i < fields->len; i++) {
		StdiolinkFieldMeta *meta = fields->pdata[i];

		if (meta->required && !json_object_has_member(config, meta->name)) {
			return fail(failure, meta->name,
				    g_strdup_printf("required field '%s' is missing", meta->name));
		}
	}
	for (guint i = 0; i < fields->len; i++) {
		StdiolinkFieldMeta *meta = fields->pdata[i];
		JsonNode *value = json_object_get_member(config, meta->name);

		if (value == NULL || validate_field(meta, value, failure))
			continue;
		if (failure->field[0] == '\0') {
			g_free(failure->field);
			failure->field = g_strdup(meta->name);
		}
		return FALSE;
	}
	return TRUE;
}

static gboolean reject_unknown(JsonObject *config,
			       GPtrArray *fields,
			       const char *prefix,
			       Failure *failure);

static gboolean
reject_unknown_in_items(StdiolinkFieldMeta *meta,
			JsonArray *array,
			const char *path,
			Failure *failure)
{
	for (guint i = 0; i < json_array_get_length(array); i++) {
		JsonNode *element = json_array_get_element(array, i);
		g_autofree char *element_path = NULL;

		/* non-object elements are left to validation */
		if (!node_is_object(element))
			continue;
		element_path = g_strdup_printf("%s[%u]", path, i);
		if (!reject_unknown(json_node_get_object(element), meta->items->fields,
				    element_path, failure))
			return FALSE;
	}
	return TRUE;
}

/* schema.md 5.2; keys in the order of the config object; @prefix %NULL at the top level */
static gboolean
reject_unknown(JsonObject *config, GPtrArray *fields, const char *prefix, Failure *failure)
{
	g_autoptr(GList) names = stdiolink_json_object_get_ordered_members(config);

	for (GList *l = names; l != NULL; l = l->next) {
		const char *name = l->data;
		JsonNode *value = json_object_get_member(config, name);
		StdiolinkFieldMeta *meta = find_field(fields, name);
		g_autofree char *path = prefix != NULL ? g_strconcat(prefix, ".", name, NULL)
						       : g_strdup(name);

		if (meta == NULL)
			return fail(failure, path, g_strdup("unknown configuration field"));

		if (meta->type == STDIOLINK_FIELD_OBJECT && meta->fields->len > 0 &&
		    node_is_object(value) &&
		    !reject_unknown(json_node_get_object(value), meta->fields, path, failure))
			return FALSE;
		if (meta->type == STDIOLINK_FIELD_ARRAY && meta->items != NULL &&
		    meta->items->fields->len > 0 && node_is_array(value) &&
		    !reject_unknown_in_items(meta, json_node_get_array(value), path, failure))
			return FALSE;
	}
	return TRUE;
}

/* schema.md 5.1, in place on a private copy; array items are never filled */
static void
fill_defaults(JsonObject *object, GPtrArray *fields)
{
	for (guint i = 0; i < fields->len; i++) {
		StdiolinkFieldMeta *meta = fields->pdata[i];
		JsonNode *value;

		if (!json_object_has_member(object, meta->name) && meta->default_value != NULL)
			json_object_set_member(object, meta->name, deep_copy(meta->default_value));
		if (meta->type != STDIOLINK_FIELD_OBJECT || meta->fields->len == 0)
			continue;

		/* an object with declared children always exists afterwards; a value of
		 * another type (null included) is replaced */
		value = json_object_get_member(object, meta->name);
		if (node_is_object(value)) {
			fill_defaults(json_node_get_object(value), meta->fields);
		} else {
			JsonObject *nested = json_object_new();

			fill_defaults(nested, meta->fields);
			json_object_set_object_member(object, meta->name, nested);
		}
	}
}

/* schema.md 5.5 step 1: objects merge key by key, anything else replaces */
static JsonObject *
deep_merge(JsonObject *base, JsonObject *override)
{
	JsonObject *result = deep_copy_object(base);
	g_autoptr(GList) names = stdiolink_json_object_get_ordered_members(override);

	for (GList *l = names; l != NULL; l = l->next) {
		const char *name = l->data;
		JsonNode *value = json_object_get_member(override, name);
		JsonNode *current = json_object_get_member(result, name);

		if (node_is_object(value) && node_is_object(current)) {
			json_object_set_object_member(result, name,
						      deep_merge(json_node_get_object(current),
								 json_node_get_object(value)));
		} else {
			json_object_set_member(result, name, deep_copy(value));
		}
	}
	return result;
}

static StdiolinkValidation *
validation_new(gboolean valid, Failure *failure, JsonObject *filled)
{
	StdiolinkValidation *v = g_new0(StdiolinkValidation, 1);

	v->valid = valid;
	v->error_field = valid ? g_strdup("") : g_steal_pointer(&failure->field);
	v->error_message = valid ? NULL : g_steal_pointer(&failure->message);
	v->filled = filled;
	g_clear_pointer(&failure->field, g_free);
	g_clear_pointer(&failure->message, g_free);
	return v;
}

/**
 * stdiolink_schema_merge_and_validate: (skip)
 * @schema: a schema
 * @file_config: (nullable): the base config (%NULL = `{}`)
 * @override_config: (nullable): the config laid over it (%NULL = `{}`)
 *
 * schema.md 5.5: deep merge, default filling (5.1), unknown-field rejection (5.2), then
 * validation (5.4). Neither input is modified.
 *
 * Returns: (transfer full): the result; `filled` holds the merged, filled config
 */
StdiolinkValidation *
stdiolink_schema_merge_and_validate(StdiolinkSchema *schema,
				    JsonObject *file_config,
				    JsonObject *override_config)
{
	g_autoptr(JsonObject) empty = json_object_new();
	JsonObject *merged;
	Failure failure = {NULL, NULL};
	gboolean valid;

	merged = deep_merge(file_config != NULL ? file_config : empty,
			    override_config != NULL ? override_config : empty);
	fill_defaults(merged, schema->fields);
	valid = reject_unknown(merged, schema->fields, NULL, &failure) &&
		validate_config(merged, schema->fields, &failure);
	return validation_new(valid, &failure, merged);
}

/**
 * stdiolink_schema_validate: (skip)
 * @schema: a schema
 * @config: (nullable): a service config (a project `config`, a validate-config body);
 *   %NULL reads as `{}`
 *
 * The one validation path for service configs: stdiolink_schema_merge_and_validate() with
 * an empty file config. @config is not modified.
 *
 * Returns: (transfer full): the result; `filled` holds the default-filled config
 */
StdiolinkValidation *
stdiolink_schema_validate(StdiolinkSchema *schema, JsonObject *config)
{
	return stdiolink_schema_merge_and_validate(schema, NULL, config);
}

/**
 * stdiolink_fields_validate_params: (skip)
 * @fields: (element-type StdiolinkFieldMeta) (nullable): a command's `params`
 * @data: (nullable): the request `data`
 *
 * Driver-side parameter validation (schema.md 5.6, protocol.md 3.3): @data must be an
 * object, null or absent (else `params must be an object`); defaults are filled (5.1) and
 * the filled object is validated (5.3.1, unknown keys allowed). @data is not modified.
 *
 * Returns: (transfer full): the result; `filled` holds the params the handler receives
 */
StdiolinkValidation *
stdiolink_fields_validate_params(GPtrArray *fields, JsonNode *data)
{
	g_autoptr(GPtrArray) no_fields = g_ptr_array_new();
	JsonObject *filled;
	Failure failure = {NULL, NULL};
	gboolean valid;

	if (fields == NULL)
		fields = no_fields;
	if (data != NULL && !JSON_NODE_HOLDS_NULL(data) && !JSON_NODE_HOLDS_OBJECT(data)) {
		filled = json_object_new();
		fill_defaults(filled, fields);
		fail(&failure, "", g_strdup("params must be an object"));
		return validation_new(FALSE, &failure, filled);
	}

	filled = node_is_object(data) ? deep_copy_object(json_node_get_object(data))
				      : json_object_new();
	fill_defaults(filled, fields);
	valid = validate_object(filled, fields, NULL, &failure);
	return validation_new(valid, &failure, filled);
}

/**
 * stdiolink_validation_free:
 * @v: (nullable): a result
 */
void
stdiolink_validation_free(StdiolinkValidation *v)
{
	if (v == NULL)
		return;
	g_free(v->error_field);
	g_free(v->error_message);
	g_clear_pointer(&v->filled, json_object_unref);
	g_free(v);
}

/**
 * stdiolink_validation_to_string:
 * @v: a result
 *
 * Returns: (transfer full): `OK`, `<errorField>: <errorMessage>`, or the message alone
 *   when the error has no field (schema.md 4)
 */
char *
stdiolink_validation_to_string(const StdiolinkValidation *v)
{
	if (v->valid)
		return g_strdup("OK");
	if (v->error_field == NULL || v->error_field[0] == '\0')
		return g_strdup(v->error_message);
	return g_strdup_printf("%s: %s", v->error_field, v->error_message);
}
