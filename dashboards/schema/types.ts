// The types kvmem's dashboards are checked against (dashboards/schema/check.py): @grafana/schema's
// Dashboard, VariableModel and panel shapes, with each panel's options and field config taken from
// its own panel type. Json<T> accepts enums as the strings and numbers that JSON holds, so a
// dashboard literal is checked field by field: wrong types, missing fields and misspelled keys fail.
import type { AnnotationQuery, Dashboard, DataQuery, DataSourceRef, FieldConfig, FieldConfigSource, Panel,
  RowPanel, VariableModel } from "@grafana/schema";
import type { FieldConfig as StateTimelineFieldConfig, Options as StateTimelineOptions } from
  "@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen";
import type { Options as StatOptions } from "@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen";
import type { FieldConfig as TableFieldConfig, Options as TableOptions } from
  "@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen";
import type { FieldConfig as TimeSeriesFieldConfig, Options as TimeSeriesOptions } from
  "@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen";

export type Json<T> = T extends string ? `${T}`
  : T extends number | boolean | null | undefined ? T
  : T extends readonly (infer U)[] ? Json<U>[]
  : T extends object ? { [K in keyof T]: Json<T[K]> }
  : T;

// @grafana/schema has no Prometheus query type; this mirrors Grafana's PromQuery (public/app/
// plugins/datasource/prometheus) for the fields kvmem uses.
export interface PromQuery extends Omit<DataQuery, "datasource"> {
  datasource: DataSourceRef;
  expr: string;
  legendFormat?: string;
  range?: boolean;
  instant?: boolean;
  format?: "time_series" | "table" | "heatmap";
  editorMode?: "code" | "builder";
  interval?: string;
}
export interface PromAnnotationTarget {
  refId: string;
  expr: string;
  interval?: string;
  titleFormat?: string;
  textFormat?: string;
  tagKeys?: string;
  useValueForTime?: boolean;
}

type PanelOf<Kind extends string, O, C> = Omit<Panel, "type" | "options" | "fieldConfig" | "targets" | "datasource"> & {
  type: Kind;
  datasource: DataSourceRef;
  targets: PromQuery[];
  options: O;
  fieldConfig: { defaults: Omit<FieldConfig, "custom"> & { custom?: C }; overrides: FieldConfigSource["overrides"] };
};

export type TimeSeriesPanel = Json<PanelOf<"timeseries", TimeSeriesOptions, TimeSeriesFieldConfig>>;
export type StatPanel = Json<PanelOf<"stat", StatOptions, Record<string, never>>>;
export type TablePanel = Json<PanelOf<"table", TableOptions, TableFieldConfig>>;
export type StateTimelinePanel = Json<PanelOf<"state-timeline", StateTimelineOptions, StateTimelineFieldConfig>>;
export type Row = Json<RowPanel>;
export type AnyPanel = TimeSeriesPanel | StatPanel | TablePanel | StateTimelinePanel | Row;

export type Variable = Json<VariableModel>;
export type Annotation = Json<Omit<AnnotationQuery, "target">> & { target: PromAnnotationTarget };

export type KvmemDashboard = Json<Omit<Dashboard, "panels" | "templating" | "annotations">> & {
  uid: string;
  title: string;
  panels: AnyPanel[];
  templating: { list: Variable[] };
  annotations: { list: Annotation[] };
};
