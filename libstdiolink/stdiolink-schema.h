#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * StdiolinkFieldType:
 * @STDIOLINK_FIELD_ANY: anything, including null (`any`, or a missing type)
 * @STDIOLINK_FIELD_STRING: a string (`string`)
 * @STDIOLINK_FIELD_INT: an integral number within int32 (`int`, `integer`)
 * @STDIOLINK_FIELD_INT64: a number with absolute value <= 2^53 (`int64`)
 * @STDIOLINK_FIELD_DOUBLE: any number (`double`, `number`)
 * @STDIOLINK_FIELD_BOOL: true or false (`bool`, `boolean`)
 * @STDIOLINK_FIELD_OBJECT: an object (`object`)
 * @STDIOLINK_FIELD_ARRAY: an array (`array`)
 * @STDIOLINK_FIELD_ENUM: a string, membership checked by the `enum` constraint (`enum`)
 *
 * The types of the field schema type system (schema.md section 1).
 */
typedef enum {
	STDIOLINK_FIELD_ANY,
	STDIOLINK_FIELD_STRING,
	STDIOLINK_FIELD_INT,
	STDIOLINK_FIELD_INT64,
	STDIOLINK_FIELD_DOUBLE,
	STDIOLINK_FIELD_BOOL,
	STDIOLINK_FIELD_OBJECT,
	STDIOLINK_FIELD_ARRAY,
	STDIOLINK_FIELD_ENUM,
} StdiolinkFieldType;

const char *stdiolink_field_type_to_string(StdiolinkFieldType type);
gboolean stdiolink_field_type_from_string(const char *name, StdiolinkFieldType *type);

/* one field descriptor; refcounted (atomic), immutable after parse */
typedef struct _StdiolinkFieldMeta StdiolinkFieldMeta;

StdiolinkFieldMeta *stdiolink_field_meta_ref(StdiolinkFieldMeta *meta);
void stdiolink_field_meta_unref(StdiolinkFieldMeta *meta);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StdiolinkFieldMeta, stdiolink_field_meta_unref)

StdiolinkFieldMeta *stdiolink_field_meta_new_from_json(JsonObject *object);
JsonNode *stdiolink_field_meta_to_json(StdiolinkFieldMeta *meta);

const char *stdiolink_field_meta_get_name(StdiolinkFieldMeta *meta);
StdiolinkFieldType stdiolink_field_meta_get_field_type(StdiolinkFieldMeta *meta);
gboolean stdiolink_field_meta_get_required(StdiolinkFieldMeta *meta);
JsonNode *stdiolink_field_meta_get_default(StdiolinkFieldMeta *meta);
const char *stdiolink_field_meta_get_description(StdiolinkFieldMeta *meta);
gboolean stdiolink_field_meta_get_min(StdiolinkFieldMeta *meta, double *min);
gboolean stdiolink_field_meta_get_max(StdiolinkFieldMeta *meta, double *max);
gboolean stdiolink_field_meta_get_min_length(StdiolinkFieldMeta *meta, int *min_length);
gboolean stdiolink_field_meta_get_max_length(StdiolinkFieldMeta *meta, int *max_length);
gboolean stdiolink_field_meta_get_min_items(StdiolinkFieldMeta *meta, int *min_items);
gboolean stdiolink_field_meta_get_max_items(StdiolinkFieldMeta *meta, int *max_items);
const char *stdiolink_field_meta_get_pattern(StdiolinkFieldMeta *meta);
const char *stdiolink_field_meta_get_format(StdiolinkFieldMeta *meta);
GPtrArray *stdiolink_field_meta_get_enum_values(StdiolinkFieldMeta *meta);
GPtrArray *stdiolink_field_meta_get_fields(StdiolinkFieldMeta *meta);
StdiolinkFieldMeta *stdiolink_field_meta_get_items(StdiolinkFieldMeta *meta);
const char * const *stdiolink_field_meta_get_required_keys(StdiolinkFieldMeta *meta);
gboolean stdiolink_field_meta_get_additional_properties(StdiolinkFieldMeta *meta);

/* lists of encoding B descriptors (driver meta `params`, `fields`, `configSchemaFields`) */
GPtrArray *stdiolink_fields_new_from_json(JsonNode *node);
JsonNode *stdiolink_fields_to_json(GPtrArray *fields);
JsonObject *stdiolink_ui_hint_normalize(JsonNode *node);

/* a service config schema (encoding A); refcounted (atomic), immutable, thread-safe to share */
typedef struct _StdiolinkSchema StdiolinkSchema;

StdiolinkSchema *stdiolink_schema_ref(StdiolinkSchema *schema);
void stdiolink_schema_unref(StdiolinkSchema *schema);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StdiolinkSchema, stdiolink_schema_unref)

StdiolinkSchema *stdiolink_schema_new_from_json(JsonObject *root, GError **error);
StdiolinkSchema *stdiolink_schema_new_from_file(const char *path, GError **error);
GPtrArray *stdiolink_schema_get_fields(StdiolinkSchema *schema);
StdiolinkFieldMeta *stdiolink_schema_find_field(StdiolinkSchema *schema, const char *name);
JsonNode *stdiolink_schema_to_json(StdiolinkSchema *schema);
const char * const *stdiolink_schema_get_warnings(StdiolinkSchema *schema);
JsonObject *stdiolink_schema_generate_defaults(StdiolinkSchema *schema);
GStrv stdiolink_schema_get_required_fields(StdiolinkSchema *schema);
GStrv stdiolink_schema_get_optional_fields(StdiolinkSchema *schema);

/**
 * StdiolinkValidation:
 * @valid: whether the input passed
 * @error_field: the failing field path; "" when valid or when the error has no field
 * @error_message: the failure text; %NULL when valid
 * @filled: the merged, default-filled object; set whether valid or not
 *
 * The result of a validation (schema.md section 4).
 */
typedef struct {
	gboolean valid;
	char *error_field;
	char *error_message;
	JsonObject *filled;
} StdiolinkValidation;

void stdiolink_validation_free(StdiolinkValidation *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StdiolinkValidation, stdiolink_validation_free)
char *stdiolink_validation_to_string(const StdiolinkValidation *v);

StdiolinkValidation *stdiolink_schema_validate(StdiolinkSchema *schema, JsonObject *config);
StdiolinkValidation *stdiolink_schema_merge_and_validate(StdiolinkSchema *schema,
							 JsonObject *file_config,
							 JsonObject *override_config);
StdiolinkValidation *stdiolink_fields_validate_params(GPtrArray *fields, JsonNode *data);

G_END_DECLS
