{{/* Names, labels and shared bits of the chargeops chart. */}}

{{- define "chargeops.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every namespaced object: the release name, with the chart name unless it already holds it. */}}
{{- define "chargeops.fullname" -}}
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

{{- define "chargeops.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "chargeops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chargeops
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: (dict "context" $ "component" "gateway"). */}}
{{- define "chargeops.selectorLabels" -}}
app.kubernetes.io/name: {{ include "chargeops.name" .context }}
app.kubernetes.io/instance: {{ .context.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "chargeops.componentLabels" -}}
{{ include "chargeops.labels" .context }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "chargeops.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "chargeops.operatorServiceAccount" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (printf "%s-operator" (include "chargeops.fullname" .)) .Values.operator.serviceAccount.name }}
{{- else }}
{{- required "operator.serviceAccount.name is required when operator.serviceAccount.create is false" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "chargeops.gatewayServiceAccount" -}}
{{- if .Values.gateway.serviceAccount.create }}
{{- default (printf "%s-gateway" (include "chargeops.fullname" .)) .Values.gateway.serviceAccount.name }}
{{- else }}
{{- required "gateway.serviceAccount.name is required when gateway.serviceAccount.create is false" .Values.gateway.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "chargeops.portalServiceAccount" -}}
{{- if .Values.portal.serviceAccount.create }}
{{- default (printf "%s-portal" (include "chargeops.fullname" .)) .Values.portal.serviceAccount.name }}
{{- else }}
{{- required "portal.serviceAccount.name is required when portal.serviceAccount.create is false" .Values.portal.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "chargeops.gatewayTokenSecret" -}}
{{- default (printf "%s-gateway-token" (include "chargeops.fullname" .)) .Values.gatewayToken.existingSecret }}
{{- end }}

{{- define "chargeops.signingKeySecret" -}}
{{- default (printf "%s-signing-key" (include "chargeops.fullname" .)) .Values.signingKey.existingSecret }}
{{- end }}

{{- define "chargeops.gatewayPasswordKeySecret" -}}
{{- default (printf "%s-gateway-password-key" (include "chargeops.fullname" .)) .Values.gateway.passwordKey.existingSecret }}
{{- end }}

{{/* The control API's URL, as the operator and the portal call it. */}}
{{- define "chargeops.gatewayControlUrl" -}}
{{- printf "http://%s.%s.svc:%v" (include "chargeops.gatewayControlService" .) .Release.Namespace .Values.gateway.controlPort }}
{{- end }}

{{/* The Service of the control API; the operator's and the portal's --gateway-url name it. */}}
{{- define "chargeops.gatewayControlService" -}}
{{- printf "%s-gateway-control" (include "chargeops.fullname" .) }}
{{- end }}

{{/* The approvers ConfigMap, the policy's parameters. */}}
{{- define "chargeops.approversConfigMap" -}}
{{- printf "%s-approvers" (include "chargeops.fullname" .) }}
{{- end }}

{{/* Where the control API token is mounted (the gateway, the operator and the portal). */}}
{{- define "chargeops.tokenDir" -}}/var/run/chargeops{{- end }}

{{/*
The token volume, with the files named in "files": "token" (the API token, may do everything) and
"read-token" (may only read). Called with (dict "context" . "files" (list ...)).
*/}}
{{- define "chargeops.tokenVolume" -}}
{{- $keys := dict "token" .context.Values.gatewayToken.key "read-token" .context.Values.gatewayToken.readKey }}
- name: gateway-token
  secret:
    secretName: {{ include "chargeops.gatewayTokenSecret" .context }}
    defaultMode: 0440
    items:
      {{- range .files }}
      - key: {{ index $keys . }}
        path: {{ . }}
      {{- end }}
{{- end }}

{{/*
Where the signing key is mounted (the operator and the portal; the gateway never sees it). A directory of
its own: a Secret volume cannot hold another volume's mount point.
*/}}
{{- define "chargeops.signingKeyDir" -}}/var/run/chargeops-signing{{- end }}

{{/* The signing key volume: the signing key Secret's key as the file "key". */}}
{{- define "chargeops.signingKeyVolume" -}}
{{- include "chargeops.keyVolume" (dict "name" "signing-key" "secret" (include "chargeops.signingKeySecret" .) "key" .Values.signingKey.key) }}
{{- end }}

{{/*
Where the gateway's password key is mounted (the gateway only: the operator and the portal never see it).
A directory of its own, as the signing key's.
*/}}
{{- define "chargeops.gatewayPasswordKeyDir" -}}/var/run/chargeops-password-key{{- end }}

{{/* The password key volume: the password key Secret's key as the file "key". */}}
{{- define "chargeops.gatewayPasswordKeyVolume" -}}
{{- include "chargeops.keyVolume" (dict "name" "password-key" "secret" (include "chargeops.gatewayPasswordKeySecret" .) "key" .Values.gateway.passwordKey.key) }}
{{- end }}

{{/*
A volume of one key of a Secret as the file "key", readable by the pod's group only:
(dict "name" <volume name> "secret" <Secret name> "key" <key in the Secret>).
*/}}
{{- define "chargeops.keyVolume" -}}
- name: {{ .name }}
  secret:
    secretName: {{ .secret }}
    defaultMode: 0440
    items:
      - key: {{ .key }}
        path: key
{{- end }}

{{/*
A Secret holding one random key, unless an existing Secret is named; the signing key and the gateway's
password key are both made here. Called with (dict "context" $ "name" <Secret name> "values" <the value
block: existingSecret, key> "path" <that block's path in values, for messages> "needs" <who needs 32
bytes, for the message> "component" <optional: labels of that component>).

The chart makes 64 random letters and digits (about 380 bits; the programs need at least 32 bytes), text
so a trailing byte never reads as a line break. `lookup` keeps the key of an earlier install across
upgrades; tools that render without a cluster (helm template, Argo CD) would make a new key on every
render, so GitOps installs name an existing Secret instead.

An existing Secret is checked where `lookup` can see it (helm install/upgrade, --dry-run=server): the key
must be there and at least 32 bytes. Where it cannot (helm template), the programs refuse a short key when
they start.
*/}}
{{- define "chargeops.keySecret" -}}
{{- $context := .context }}
{{- $name := .name }}
{{- $path := .path }}
{{- $key := .values.key }}
{{- $existing := lookup "v1" "Secret" $context.Release.Namespace $name }}
{{- if .values.existingSecret }}
{{- if $existing }}
{{- $value := index ($existing.data | default dict) $key }}
{{- if not $value }}
{{- fail (printf "%s.existingSecret: Secret %s has no key %q (%s.key)." $path $name $key $path) }}
{{- end }}
{{- /* As the programs read it: without trailing line breaks. */ -}}
{{- $length := len (regexReplaceAll "[\r\n]+$" (b64dec $value) "") }}
{{- if lt $length 32 }}
{{- fail (printf "%s.existingSecret: the key in Secret %s is %d bytes; %s at least 32 (e.g. openssl rand -base64 48)." $path $name $length .needs) }}
{{- end }}
{{- end }}
{{- else }}
{{- $keyText := randAlphaNum 64 }}
{{- if and $existing $existing.data }}
{{- with index $existing.data $key }}
{{- $keyText = b64dec . }}
{{- end }}
{{- end }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ $name }}
  namespace: {{ $context.Release.Namespace }}
  labels:
    {{- if .component }}
    {{- include "chargeops.componentLabels" (dict "context" $context "component" .component) | nindent 4 }}
    {{- else }}
    {{- include "chargeops.labels" $context | nindent 4 }}
    {{- end }}
type: Opaque
data:
  {{ $key }}: {{ $keyText | b64enc | quote }}
{{- end }}
{{- end }}
