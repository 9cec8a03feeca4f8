/**
 * Every PromQL expression the platform ships, parsed with Prometheus's own grammar (@prometheus-io/lezer-promql):
 * the alert rules and the Grafana dashboards' queries. A rule Prometheus cannot parse makes the operator refuse
 * the whole PrometheusRule, and with it every alert; a dashboard query that does not parse draws nothing.
 */
import { parser } from "@prometheus-io/lezer-promql";
import { platformAlertRules } from "../../../constructs/monitoring/alert-rules";
import { PLATFORM_DASHBOARDS } from "../../../constructs/monitoring/grafana-dashboards";

/** Where `expr` does not parse: the offsets of the parser's error nodes (empty when it parses). */
function syntaxErrors(expr: string): number[] {
  const errors: number[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
    },
  });
  return errors;
}

/** The `expr` of every query target of a dashboard, its panels' nested rows included. */
function dashboardQueries(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(dashboardQueries);
  if (node === null || typeof node !== "object") return [];
  const record = node as Record<string, unknown>;
  const own = typeof record.expr === "string" ? [record.expr] : [];
  return [...own, ...Object.values(record).flatMap(dashboardQueries)];
}

describe("PromQL", () => {
  it("finds errors in what is not PromQL, so the checks below can fail", () => {
    expect(syntaxErrors("sum(rate(http_requests_total[5m])) > 1")).toEqual([]);
    for (const broken of ["sum(rate(x[5m]) >", "rate(x[5m]", 'x{job="a"', "x >"]) {
      expect(syntaxErrors(broken)).not.toEqual([]);
    }
  });

  const rules = platformAlertRules().flatMap((group) => group.rules);
  it.each(rules.map((rule) => [rule.alert, rule.expr]))("alert rule %s parses", (_alert, expr) => {
    expect(syntaxErrors(expr)).toEqual([]);
  });

  const queries = Object.entries(PLATFORM_DASHBOARDS).flatMap(([name, dashboard]) =>
    // Grafana replaces its variables before Prometheus sees the query.
    dashboardQueries(dashboard).map((expr) => [name, expr.replace(/\$\{?(\w+)\}?/g, "$1_value")]),
  );
  it("covers the queries of every dashboard", () => {
    expect(new Set(queries.map(([name]) => name))).toEqual(new Set(Object.keys(PLATFORM_DASHBOARDS)));
  });
  it.each(queries)("a query of dashboard %s parses: %s", (_name, expr) => {
    expect(syntaxErrors(expr)).toEqual([]);
  });
});
