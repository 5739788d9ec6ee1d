/* The query explorer: a GraphiQL plugin (graph/pages/graphiql.py serves this file).
 *
 * Ours, in place of @graphiql/plugin-explorer, whose graphiql-explorer 0.9 wants React 15/16,
 * logs "arg mismatch" and cannot edit a list of input objects such as `balances(pairs:)`.
 *
 * The query editor's text is the only state: each render parses it (graphql-js, as GraphiQL's
 * bundle exposes it: GraphiQL.GraphQL), shows every root field of the schema with the parts
 * the operation selects checked and their arguments filled in, and each edit prints a new
 * document back into the editor (comment lines at its top are kept). Lists get an "add" and a
 * "remove" per item, input objects a checkbox per field. Federation's `_entities` and
 * `_service` are routers' business: they are not listed.
 *
 * No eval, no inline script, no style element: it runs under the page's CSP.
 */
(function () {
  "use strict";
  var h = React.createElement;
  var G = GraphiQL.GraphQL;
  var GR = GraphiQL.React;
  var ROOTS = ["query", "subscription"];

  /** Root fields a person never asks for: federation's, for routers. */
  function isListed(field) {
    return field.name !== "_entities" && field.name !== "_service";
  }

  function explorerPlugin() {
    return { title: "Explorer", icon: ExplorerIcon, content: Explorer };
  }

  function ExplorerIcon() {
    return h(
      "svg",
      { width: 20, height: 20, viewBox: "0 0 20 20", fill: "none", stroke: "currentColor", strokeWidth: 1.5 },
      h("circle", { cx: 10, cy: 10, r: 8 }),
      h("path", { d: "M13.5 6.5 11.5 11.5 6.5 13.5 8.5 8.5Z" })
    );
  }

  function Explorer() {
    var schema = GR.useSchemaContext({ nonNull: true, caller: Explorer }).schema;
    var state = GR.useOptimisticState(GR.useOperationsEditorState());
    var text = state[0];
    var setText = state[1];
    if (!schema) return h("div", { className: "bg-explorer" }, "Loading the schema…");
    var parsed = parse(text);
    if (parsed.error) {
      return h("div", { className: "bg-explorer" },
        h("p", { className: "bg-explorer-note" }, "Fix the query to use the explorer: " + parsed.error));
    }
    function save(doc) {
      setText(doc.definitions.length ? parsed.header + G.print(doc) + "\n" : parsed.header);
    }
    return h("div", { className: "bg-explorer" }, ROOTS.map(function (kind) {
      var type = kind === "query" ? schema.getQueryType() : schema.getSubscriptionType();
      if (!type) return null;
      var operation = findOperation(parsed.doc, kind);
      return h(FieldList, {
        key: kind,
        title: kind === "query" ? "Query" : "Subscription",
        fields: Object.values(type.getFields()).filter(isListed),
        selections: operation ? operation.selectionSet.selections : [],
        onChange: function (selections) { save(withOperation(parsed.doc, kind, selections)); },
      });
    }));
  }

  /* --- the document: parse, find and replace ------------------------------------------ */

  function parse(text) {
    var lines = text.split("\n");
    var header = [];
    while (lines.length && /^\s*(#.*)?$/.test(lines[0])) header.push(lines.shift());
    var rest = lines.join("\n");
    var headerText = header.filter(function (l) { return l.trim(); }).join("\n");
    headerText = headerText ? headerText + "\n" : "";
    if (!rest.trim()) return { doc: { kind: G.Kind.DOCUMENT, definitions: [] }, header: headerText };
    try {
      return { doc: G.parse(rest, { noLocation: true }), header: headerText };
    } catch (e) {
      return { error: e.message };
    }
  }

  function findOperation(doc, kind) {
    return doc.definitions.find(function (d) {
      return d.kind === G.Kind.OPERATION_DEFINITION && d.operation === kind;
    });
  }

  /** `doc` with its first `kind` operation selecting `selections` (created, or dropped when empty). */
  function withOperation(doc, kind, selections) {
    var found = findOperation(doc, kind);
    var definitions = doc.definitions.slice();
    var operation = Object.assign({}, found || { kind: G.Kind.OPERATION_DEFINITION, operation: kind,
      variableDefinitions: [], directives: [] }, { selectionSet: selectionSet(selections) });
    var at = definitions.indexOf(found);
    if (!selections.length) {
      if (at >= 0) definitions.splice(at, 1);
    } else if (at >= 0) {
      definitions[at] = operation;
    } else {
      definitions.push(operation);
    }
    return Object.assign({}, doc, { definitions: definitions });
  }

  function selectionSet(selections) {
    return { kind: G.Kind.SELECTION_SET, selections: selections };
  }

  function name(value) {
    return { kind: G.Kind.NAME, value: value };
  }

  /* --- fields ------------------------------------------------------------------------ */

  /** The fields of one type, each checked when `selections` has it (unaliased first). */
  function FieldList(props) {
    var selections = props.selections;
    function fieldNode(field) {
      var fields = selections.filter(function (s) {
        return s.kind === G.Kind.FIELD && s.name.value === field.name;
      });
      return fields.find(function (s) { return !s.alias; }) || fields[0];
    }
    function replace(field, node, next) {
      var list = selections.slice();
      var at = list.indexOf(node);
      if (next === null) list.splice(at, 1);
      else if (at >= 0) list[at] = next;
      else list.push(next);
      props.onChange(list);
    }
    return h("div", { className: "bg-explorer-type" },
      props.title ? h("div", { className: "bg-explorer-title" }, props.title) : null,
      props.fields.map(function (field) {
        var node = fieldNode(field);
        return h(Field, {
          key: field.name,
          field: field,
          node: node,
          onChange: function (next) { replace(field, node, next); },
        });
      }));
  }

  function Field(props) {
    var field = props.field;
    var node = props.node;
    var named = G.getNamedType(field.type);
    function toggle() {
      props.onChange(node ? null : newField(field));
    }
    var children = [];
    if (node) {
      if (field.args.length) {
        children.push(h(Arguments, { key: "args", args: field.args, node: node, onChange: props.onChange }));
      }
      if (!G.isLeafType(named)) {
        children.push(h(Selection, {
          key: "sel",
          type: named,
          selections: node.selectionSet ? node.selectionSet.selections : [],
          onChange: function (selections) {
            props.onChange(Object.assign({}, node, { selectionSet: selectionSet(selections) }));
          },
        }));
      }
    }
    return h("div", { className: "bg-explorer-field", "data-field": field.name },
      h("label", { className: "bg-explorer-name", title: field.description || "" },
        h("input", { type: "checkbox", checked: !!node, onChange: toggle }),
        h("span", null, node && node.alias ? node.alias.value + ": " + field.name : field.name)),
      children.length ? h("div", { className: "bg-explorer-inner" }, children) : null);
  }

  /** The subfields of an object type, or the types a union or interface may be. */
  function Selection(props) {
    var schema = GR.useSchemaContext({ nonNull: true, caller: Selection }).schema;
    var type = props.type;
    var selections = props.selections;
    if (G.isObjectType(type)) {
      return h(FieldList, { fields: Object.values(type.getFields()), selections: selections, onChange: props.onChange });
    }
    return h("div", { className: "bg-explorer-type" }, schema.getPossibleTypes(type).map(function (possible) {
      var fragment = selections.find(function (s) {
        return s.kind === G.Kind.INLINE_FRAGMENT && s.typeCondition && s.typeCondition.name.value === possible.name;
      });
      function change(inner) {
        var list = selections.filter(function (s) { return s !== fragment; });
        if (inner.length) {
          list.push({ kind: G.Kind.INLINE_FRAGMENT, directives: [],
            typeCondition: { kind: G.Kind.NAMED_TYPE, name: name(possible.name) }, selectionSet: selectionSet(inner) });
        }
        props.onChange(list.length ? list : [newField({ name: "__typename", args: [], type: G.GraphQLString })]);
      }
      return h("div", { key: possible.name, className: "bg-explorer-field" },
        h("div", { className: "bg-explorer-title" }, "... on " + possible.name),
        h(FieldList, { fields: Object.values(possible.getFields()), selections: fragment ? fragment.selectionSet.selections : [], onChange: change }));
    }));
  }

  /** A new selection of `field`: its required arguments filled in, and for an object, its
   * first plain field (a selection set may not be empty). */
  function newField(field) {
    var args = field.args.filter(isRequired).map(function (arg) {
      return { kind: G.Kind.ARGUMENT, name: name(arg.name), value: defaultValue(arg.type) };
    });
    var node = { kind: G.Kind.FIELD, name: name(field.name), arguments: args, directives: [] };
    var named = G.getNamedType(field.type);
    if (G.isObjectType(named)) {
      var first = Object.values(named.getFields()).find(function (f) {
        return G.isLeafType(G.getNamedType(f.type)) && !f.args.some(isRequired);
      });
      node.selectionSet = selectionSet([newField(first || { name: "__typename", args: [], type: G.GraphQLString })]);
    } else if (!G.isLeafType(named)) {
      node.selectionSet = selectionSet([newField({ name: "__typename", args: [], type: G.GraphQLString })]);
    }
    return node;
  }

  function isRequired(argOrField) {
    return G.isNonNullType(argOrField.type) && argOrField.defaultValue === undefined;
  }

  /* --- arguments and input values ---------------------------------------------------- */

  function Arguments(props) {
    var node = props.node;
    return h(Inputs, {
      className: "bg-explorer-args",
      kind: G.Kind.ARGUMENT,
      defs: props.args,
      given: node.arguments || [],
      onChange: function (list) { props.onChange(Object.assign({}, node, { arguments: list })); },
    });
  }

  /** A field's arguments or an input object's fields: an `Input` each, their values kept in
   * `given` (nodes of `kind`: ARGUMENT or OBJECT_FIELD) in the order written, new ones last. */
  function Inputs(props) {
    var given = props.given;
    function set(def, value) {
      var at = given.findIndex(function (g) { return g.name.value === def.name; });
      var list = given.slice();
      var entry = { kind: props.kind, name: name(def.name), value: value };
      if (value === null) { if (at >= 0) list.splice(at, 1); }
      else if (at >= 0) list[at] = entry;
      else list.push(entry);
      props.onChange(list);
    }
    return h("div", { className: props.className }, props.defs.map(function (def) {
      var found = given.find(function (g) { return g.name.value === def.name; });
      return h(Input, {
        key: def.name,
        label: def.name,
        description: def.description,
        type: def.type,
        value: found ? found.value : null,
        required: isRequired(def),
        onChange: function (value) { set(def, value); },
      });
    }));
  }

  /** One argument or input field: a checkbox (unless required) and its value's editor. */
  function Input(props) {
    var on = props.value !== null;
    function toggle() {
      props.onChange(on ? null : defaultValue(props.type));
    }
    return h("div", { className: "bg-explorer-input", "data-input": props.label },
      h("label", { className: "bg-explorer-name bg-explorer-arg", title: props.description || "" },
        h("input", { type: "checkbox", checked: on, disabled: props.required && on, onChange: toggle }),
        h("span", null, props.label + ":")),
      on ? h(Value, { type: props.type, value: props.value, onChange: props.onChange }) : null);
  }

  function Value(props) {
    var type = G.isNonNullType(props.type) ? props.type.ofType : props.type;
    var value = props.value;
    if (value.kind === G.Kind.VARIABLE) {
      return h("code", { className: "bg-explorer-variable" }, "$" + value.name.value);
    }
    if (G.isListType(type)) return h(ListValue, { type: type.ofType, value: value, onChange: props.onChange });
    if (G.isInputObjectType(type)) return h(ObjectValue, { type: type, value: value, onChange: props.onChange });
    if (G.isEnumType(type) || type === G.GraphQLBoolean) {
      var options = type === G.GraphQLBoolean ? ["true", "false"] : type.getValues().map(function (v) { return v.name; });
      return h("select", {
        value: value.kind === G.Kind.BOOLEAN ? String(value.value) : value.value,
        onChange: function (e) { props.onChange(scalarValue(type, e.target.value)); },
      }, options.map(function (o) { return h("option", { key: o, value: o }, o); }));
    }
    var number = type === G.GraphQLInt || type === G.GraphQLFloat;
    return h("input", {
      type: number ? "number" : "text",
      className: "bg-explorer-text",
      value: value.kind === G.Kind.NULL ? "" : String(value.value),
      placeholder: type.name,
      onChange: function (e) { props.onChange(scalarValue(type, e.target.value)); },
    });
  }

  /** A list: each item's editor with "remove", then "add". A single value stands for a list
   * of one (GraphQL's input coercion), and is edited as one. */
  function ListValue(props) {
    var items = props.value.kind === G.Kind.LIST ? props.value.values : [props.value];
    function set(next) {
      props.onChange({ kind: G.Kind.LIST, values: next });
    }
    return h("div", { className: "bg-explorer-list" },
      items.map(function (item, index) {
        return h("div", { key: index, className: "bg-explorer-item", "data-item": index },
          h(Value, {
            type: props.type,
            value: item,
            onChange: function (value) {
              var next = items.slice();
              next[index] = value;
              set(next);
            },
          }),
          h("button", {
            type: "button",
            className: "bg-explorer-remove",
            title: "remove this item",
            onClick: function () { set(items.filter(function (_, i) { return i !== index; })); },
          }, "remove"));
      }),
      h("button", {
        type: "button",
        className: "bg-explorer-add",
        onClick: function () { set(items.concat([defaultValue(props.type)])); },
      }, "+ add " + G.getNamedType(props.type).name));
  }

  function ObjectValue(props) {
    return h(Inputs, {
      className: "bg-explorer-object",
      kind: G.Kind.OBJECT_FIELD,
      defs: Object.values(props.type.getFields()),
      given: props.value.kind === G.Kind.OBJECT ? props.value.fields : [],
      onChange: function (list) { props.onChange({ kind: G.Kind.OBJECT, fields: list }); },
    });
  }

  /** What a newly checked argument or input field starts as: a list of one item, an object
   * with its required fields, the first enum value, false, 0, or an empty string. */
  function defaultValue(type) {
    var inner = G.isNonNullType(type) ? type.ofType : type;
    if (G.isListType(inner)) return { kind: G.Kind.LIST, values: [defaultValue(inner.ofType)] };
    if (G.isInputObjectType(inner)) {
      var fields = Object.values(inner.getFields()).filter(isRequired).map(function (field) {
        return { kind: G.Kind.OBJECT_FIELD, name: name(field.name), value: defaultValue(field.type) };
      });
      return { kind: G.Kind.OBJECT, fields: fields };
    }
    if (G.isEnumType(inner)) return scalarValue(inner, inner.getValues()[0].name);
    if (inner === G.GraphQLBoolean) return scalarValue(inner, "false");
    if (inner === G.GraphQLInt || inner === G.GraphQLFloat) return scalarValue(inner, "0");
    return scalarValue(inner, "");
  }

  /** The literal for `text` typed into an editor of `type`. */
  function scalarValue(type, text) {
    if (G.isEnumType(type)) return { kind: G.Kind.ENUM, value: text };
    if (type === G.GraphQLBoolean) return { kind: G.Kind.BOOLEAN, value: text === "true" };
    if (type === G.GraphQLInt) return { kind: G.Kind.INT, value: /^-?\d+$/.test(text) ? text : "0" };
    if (type === G.GraphQLFloat) return { kind: G.Kind.FLOAT, value: isFinite(parseFloat(text)) ? text : "0" };
    return { kind: G.Kind.STRING, value: text };
  }

  window.BalanceGraphExplorer = { explorerPlugin: explorerPlugin };
})();
