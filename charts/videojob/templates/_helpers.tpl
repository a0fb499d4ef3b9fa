{{/* Names and labels of every object: the templates use only these. */}}

{{- define "videojob.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "<release>-<chart>", or the release name alone when it already holds the chart's name. */}}
{{- define "videojob.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "videojob.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "videojob.labels" -}}
helm.sh/chart: {{ include "videojob.chart" . }}
app.kubernetes.io/name: {{ include "videojob.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: videojob
{{- end }}

{{- define "videojob.selectorLabels" -}}
app.kubernetes.io/name: {{ include "videojob.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Per component: (dict "ctx" $ "component" "operator"). */}}
{{- define "videojob.componentName" -}}
{{- printf "%s-%s" (include "videojob.fullname" .ctx | trunc 54 | trimSuffix "-") .component }}
{{- end }}

{{- define "videojob.componentLabels" -}}
{{ include "videojob.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "videojob.componentSelectorLabels" -}}
{{ include "videojob.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "videojob.operator.serviceAccountName" -}}
{{- default (include "videojob.componentName" (dict "ctx" . "component" "operator")) .Values.operator.serviceAccount.name }}
{{- end }}

{{- define "videojob.gateway.serviceAccountName" -}}
{{- default (include "videojob.componentName" (dict "ctx" . "component" "gateway")) .Values.gateway.serviceAccount.name }}
{{- end }}

{{- define "videojob.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "videojob.renderer.image" -}}
{{- printf "%s:%s" .Values.renderer.image.repository (default .Chart.AppVersion .Values.renderer.image.tag) }}
{{- end }}

{{/*
The Prometheus "job" label of each component, fixed whatever the release is called: the
alerts and dashboards select job="videojob-operator" / job="videojob-gateway"
(hack/devenv/prometheus.py SCRAPE_JOBS). The Service carries it; the ServiceMonitor's
jobLabel points at it.
*/}}
{{- define "videojob.scrapeJobLabel" -}}videojob.dev/scrape-job{{- end }}

{{/* The renderer Pods' labels, as operator/builders.py child_labels() sets them. */}}
{{- define "videojob.renderer.podSelector" -}}
app.kubernetes.io/name: videojob-renderer
app.kubernetes.io/managed-by: videojob-operator
{{- end }}

{{/* The S3 credentials of the operator and gateway, from credentialsSecret (optional). */}}
{{- define "videojob.s3CredentialsEnv" -}}
{{- $secret := .ctx.Values.s3.credentialsSecret }}
{{- if $secret -}}
- name: {{ .prefix }}S3_ACCESS_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: {{ .ctx.Values.s3.accessKeyKey | quote }}, optional: true}
- name: {{ .prefix }}S3_SECRET_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: {{ .ctx.Values.s3.secretKeyKey | quote }}, optional: true}
{{- end }}
{{- end }}

{{/* The S3 endpoint every component uses: the chart's MinIO Service when minio.enabled, else s3.endpoint. */}}
{{- define "videojob.s3.endpoint" -}}
{{- if .Values.minio.enabled -}}
{{- printf "http://%s.%s.svc:%d" (include "videojob.componentName" (dict "ctx" . "component" "minio")) .Release.Namespace (int .Values.minio.port) }}
{{- else -}}
{{- .Values.s3.endpoint }}
{{- end }}
{{- end }}

{{- define "videojob.minio.image" -}}
{{- printf "%s:%s" .Values.minio.image.repository (default .Chart.AppVersion .Values.minio.image.tag) }}
{{- end }}
