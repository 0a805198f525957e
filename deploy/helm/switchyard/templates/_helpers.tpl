{{/* Names, labels and the per-service pieces shared by the Deployments and the migration Jobs. */}}

{{- define "switchyard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "switchyard.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Lays each services.<name> entry over serviceDefaults: maps merge key by key, and a list or a
single value the service sets replaces the default. Helm hands every template of the chart the
same values, so the entries are completed in place: every template that reads services calls this
first (it is idempotent), and the templates and helpers then read services.<name> whole, with
numbers kept as they are (a round trip through JSON would turn --set integers into floats).
*/}}
{{- define "switchyard.applyServiceDefaults" -}}
{{- $services := .Values.services -}}
{{- range $name, $svc := $services -}}
{{- $_ := set $services $name (mergeOverwrite (deepCopy $.Values.serviceDefaults) $svc) -}}
{{- end -}}
{{- end -}}

{{/* Object name of one service's objects: <fullname>-<service>; 40 + 1 + 16 fits DNS labels. */}}
{{- define "switchyard.serviceName" -}}
{{- printf "%s-%s" (include "switchyard.fullname" .root) .name -}}
{{- end -}}

{{- define "switchyard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "switchyard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: switchyard
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component (a service, a migration Job, the test Pod). */}}
{{- define "switchyard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "switchyard.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "switchyard.componentLabels" -}}
{{ include "switchyard.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* The image of one service: [<registry>/]<repository>(:<tag>|@<digest>). */}}
{{- define "switchyard.image" -}}
{{- $img := .svc.image -}}
{{- $repo := $img.repository -}}
{{- with .root.Values.image.registry }}{{ $repo = printf "%s/%s" (trimSuffix "/" .) $repo }}{{ end -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default (default .root.Chart.AppVersion .root.Values.image.tag) $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* "true" when the services do mutual TLS themselves (everywhere but in serviceMesh mode). */}}
{{- define "switchyard.grpcTls" -}}
{{- if not .Values.serviceMesh.enabled }}true{{ end -}}
{{- end -}}

{{/* The Secret with one service's gRPC certificate, key and CA bundle. */}}
{{- define "switchyard.grpcTlsSecret" -}}
{{- printf "%s%s" .root.Values.grpcTls.secretPrefix .name -}}
{{- end -}}

{{- define "switchyard.modelConfigName" -}}
{{- default (printf "%s-model-config" (include "switchyard.fullname" .)) .Values.modelConfig.existingConfigMap -}}
{{- end -}}

{{/* Secure defaults of every Pod (convention 11): non-root fixed UID, seccomp, no token. */}}
{{- define "switchyard.podSecurity" -}}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  runAsNonRoot: true
  runAsUser: {{ .Values.securityContext.runAsUser }}
  runAsGroup: {{ .Values.securityContext.runAsGroup }}
  fsGroup: {{ .Values.securityContext.fsGroup }}
  fsGroupChangePolicy: OnRootMismatch
  seccompProfile:
    type: RuntimeDefault
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "switchyard.containerSecurity" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: {{ .Values.securityContext.runAsUser }}
  runAsGroup: {{ .Values.securityContext.runAsGroup }}
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  privileged: false
  capabilities:
    drop: ["ALL"]
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{/*
The environment of one service, from its `uses` and `connectsTo`: the variable names are the
fields of services/<name>/src/switchyard_<name>/config.py (upper-cased) and the standard OTEL_*
variables. `make chart-check` boots every service with exactly this environment.
Arguments: root, name, svc, job (true in the migration Job).
*/}}
{{- define "switchyard.env" -}}
{{- $root := .root -}}
{{- $svc := .svc -}}
{{- $v := $root.Values -}}
{{- $uses := $svc.uses -}}
{{- $managed := dict -}}
- name: K8S_POD_NAME
  valueFrom: {fieldRef: {fieldPath: metadata.name}}
- name: K8S_NAMESPACE_NAME
  valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
- name: K8S_NODE_NAME
  valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
- name: LOG_LEVEL
  value: {{ $v.logLevel | quote }}
- name: GRPC_PORT
  value: {{ $svc.ports.grpc | quote }}
{{- if $svc.ports.http }}
- name: HTTP_PORT
  value: {{ $svc.ports.http | quote }}
{{- end }}
{{- if $svc.ports.metrics }}
- name: METRICS_PORT
  value: {{ $svc.ports.metrics | quote }}
{{- end }}
- name: SHUTDOWN_GRACE_SECONDS
  value: {{ $svc.shutdownGraceSeconds | quote }}
{{- if and (include "switchyard.grpcTls" $root) (not .job) }}
- name: GRPC_TLS_CERT_FILE
  value: /etc/switchyard/grpc-tls/tls.crt
- name: GRPC_TLS_KEY_FILE
  value: /etc/switchyard/grpc-tls/tls.key
- name: GRPC_TLS_CA_FILE
  value: /etc/switchyard/grpc-tls/ca.crt
- name: GRPC_TLS_TRUST_DOMAIN
  value: {{ $v.grpcTls.trustDomain | quote }}
{{- if not $svc.ports.http }}
{{- /* The edge's gRPC port is its public Gateway API (keys, not certificates); HTTP probes. */}}
- name: GRPC_HEALTH_PORT
  value: {{ $v.grpcTls.healthPort | quote }}
{{- end }}
{{- end }}
- name: OTEL_SERVICE_NAME
  value: {{ printf "switchyard-%s" .name | quote }}
{{- $attrs := list "service.namespace=switchyard" "k8s.namespace.name=$(K8S_NAMESPACE_NAME)" "k8s.pod.name=$(K8S_POD_NAME)" "k8s.node.name=$(K8S_NODE_NAME)" }}
{{- if .job }}
{{- $attrs = append $attrs (printf "k8s.job.name=%s-migrate-%s" (include "switchyard.fullname" $root) .name) }}
{{- else }}
{{- $attrs = append $attrs (printf "k8s.deployment.name=%s" (include "switchyard.serviceName" .)) }}
{{- end }}
{{- range $k, $val := $v.telemetry.resourceAttributes }}
{{- $attrs = append $attrs (printf "%s=%s" $k $val) }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attrs | quote }}
- name: OTEL_TRACES_SAMPLER
  value: {{ $v.telemetry.tracesSampler | quote }}
{{- with $v.telemetry.tracesSamplerArg }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ . | quote }}
{{- end }}
{{- with $v.telemetry.otlp.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- with $v.telemetry.otlp.headers.existingSecret }}
- name: OTEL_EXPORTER_OTLP_HEADERS
  valueFrom: {secretKeyRef: {name: {{ . | quote }}, key: {{ $v.telemetry.otlp.headers.key | quote }}}}
{{- end }}
{{- end }}
{{- range $peer := $svc.connectsTo }}
{{- $p := index $v.services $peer }}
- name: {{ printf "%s_ADDR" ($peer | upper | replace "-" "_") }}
  value: {{ printf "%s:%v" (include "switchyard.serviceName" (dict "root" $root "name" $peer)) $p.ports.grpc | quote }}
{{- end }}
{{- if has "masterKey" $uses }}
- name: MASTER_KEY
  valueFrom: {secretKeyRef: {name: {{ $v.masterKey.existingSecret | quote }}, key: {{ $v.masterKey.key | quote }}}}
{{- end }}
{{- if has "signIn" $uses }}
{{- $si := $v.signIn }}
{{- with $si.sessionKeys.existingSecret }}
- name: SESSION_SIGNING_KEYS
  valueFrom: {secretKeyRef: {name: {{ . | quote }}, key: {{ $si.sessionKeys.key | quote }}}}
{{- end }}
- name: SESSION_TTL_SECONDS
  value: {{ $si.sessionTtlSeconds | quote }}
{{- with $si.oidc }}
{{- if .issuerUrl }}
{{- if not (and .clientId .existingSecret $si.sessionKeys.existingSecret) }}{{ fail "signIn.oidc.issuerUrl needs signIn.oidc.clientId, signIn.oidc.existingSecret and signIn.sessionKeys.existingSecret" }}{{ end }}
- name: OIDC_ISSUER_URL
  value: {{ .issuerUrl | quote }}
- name: OIDC_CLIENT_ID
  value: {{ .clientId | quote }}
- name: OIDC_CLIENT_SECRET
  valueFrom: {secretKeyRef: {name: {{ .existingSecret | quote }}, key: {{ .clientSecretKey | quote }}}}
- name: OIDC_SCOPES
  value: {{ .scopes | quote }}
- name: OIDC_AUDIENCES
  value: {{ join "," .audiences | quote }}
- name: SUPER_ADMIN_EMAILS
  value: {{ join "," .superAdminEmails | quote }}
{{- if .introspectionClientId }}
- name: OIDC_INTROSPECTION_CLIENT_ID
  value: {{ .introspectionClientId | quote }}
- name: OIDC_INTROSPECTION_CLIENT_SECRET
  valueFrom: {secretKeyRef: {name: {{ .existingSecret | quote }}, key: {{ .introspectionClientSecretKey | quote }}}}
- name: OIDC_INTROSPECTION_CACHE_SECONDS
  value: {{ .introspectionCacheSeconds | quote }}
{{- end }}
{{- if .actionsSigningKeyKey }}
- name: OIDC_ACTIONS_SIGNING_KEY
  valueFrom: {secretKeyRef: {name: {{ .existingSecret | quote }}, key: {{ .actionsSigningKeyKey | quote }}}}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- if and $svc.ports.http $v.signIn.publicUrl }}
- name: PUBLIC_URL
  value: {{ $v.signIn.publicUrl | quote }}
{{- end }}
{{- if has "postgresql" $uses }}
{{- if not $v.postgresql.existingSecret }}{{ fail (printf "services.%s uses postgresql: set postgresql.existingSecret" .name) }}{{ end }}
- name: DATABASE_URL
  valueFrom: {secretKeyRef: {name: {{ $v.postgresql.existingSecret | quote }}, key: {{ $v.postgresql.urlKey | quote }}}}
- name: DATABASE_POOL_MAX_SIZE
  value: {{ $v.postgresql.poolMaxSize | quote }}
{{- /* The hook Job migrates the services marked `migrate`; every other one migrates itself. */}}
- name: MIGRATE_ON_START
  value: {{ (not (and $v.migrations.enabled $svc.migrate)) | toString | quote }}
{{- end }}
{{- if has "redis" $uses }}
{{- $redis := $v.redis }}
{{- if $svc.credentials.redis.existingSecret }}{{ $redis = $svc.credentials.redis }}{{ end }}
{{- if not $redis.existingSecret }}{{ fail (printf "services.%s uses redis: set redis.existingSecret" .name) }}{{ end }}
- name: REDIS_URL
  valueFrom: {secretKeyRef: {name: {{ $redis.existingSecret | quote }}, key: {{ $redis.urlKey | quote }}}}
{{- end }}
{{- if has "kafka" $uses }}
{{- $k := $v.kafka }}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ $k.bootstrapServers | quote }}
- name: KAFKA_SECURITY_PROTOCOL
  value: {{ $k.securityProtocol | quote }}
{{- if and $svc.credentials.kafka.username (not $k.sasl.mechanism) }}{{ fail (printf "services.%s.credentials.kafka needs kafka.sasl.mechanism" .name) }}{{ end }}
{{- if $k.sasl.mechanism }}
{{- if not (hasPrefix "SASL_" $k.securityProtocol) }}{{ fail "kafka.sasl.mechanism needs kafka.securityProtocol SASL_PLAINTEXT or SASL_SSL" }}{{ end }}
{{- $user := $k.sasl }}
{{- if $svc.credentials.kafka.username }}{{ $user = $svc.credentials.kafka }}{{ end }}
{{- if not (and $user.username $user.existingSecret) }}{{ fail (printf "services.%s: kafka.sasl (or services.%s.credentials.kafka) needs username and existingSecret" .name .name) }}{{ end }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $k.sasl.mechanism | quote }}
- name: KAFKA_SASL_USERNAME
  value: {{ $user.username | quote }}
- name: KAFKA_SASL_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ $user.existingSecret | quote }}, key: {{ $user.passwordKey | quote }}}}
{{- else if hasPrefix "SASL_" $k.securityProtocol }}
{{- fail "kafka.securityProtocol SASL_* needs kafka.sasl.mechanism" }}
{{- end }}
{{- if $k.tls.caSecret }}
- name: KAFKA_SSL_CAFILE
  value: /etc/switchyard/tls/kafka/ca.crt
{{- end }}
{{- with $k.topicPrefix }}
- name: KAFKA_TOPIC_PREFIX
  value: {{ . | quote }}
{{- end }}
- name: KAFKA_TOPIC_PARTITIONS
  value: {{ $k.topicPartitions | quote }}
- name: KAFKA_REPLICATION_FACTOR
  value: {{ $k.replicationFactor | quote }}
- name: EVENT_SPOOL_DIR
  value: /var/lib/switchyard/spool
{{- end }}
{{- if and (has "modelConfig" $uses) (not .job) }}
- name: CONFIG_PATH
  value: /etc/switchyard/model-config/config.yaml
{{- end }}
{{- if has "providers" $uses }}
{{- $pc := $v.providerCredentials }}
{{- range $name, $list := dict "ALLOWED_AWS_STS_ENDPOINTS" $pc.allowedAwsStsEndpoints "ALLOWED_WEB_IDENTITY_TOKEN_FILES" $pc.allowedWebIdentityTokenFiles "ALLOWED_CREDENTIAL_FILES" $pc.allowedCredentialFiles "ALLOWED_S3_BUCKETS" $pc.allowedS3Buckets "ALLOWED_GCS_BUCKETS" $pc.allowedGcsBuckets }}
{{- with $list }}
- name: {{ $name }}
  value: {{ toJson . | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- range $key, $val := $svc.env }}
- name: {{ $key }}
  value: {{ $val | quote }}
{{- end }}
{{- end -}}

{{/* Names the chart sets itself; services.<name>.env may not set them again. */}}
{{- define "switchyard.checkEnv" -}}
{{- $reserved := list "K8S_POD_NAME" "K8S_NAMESPACE_NAME" "K8S_NODE_NAME" "LOG_LEVEL" "GRPC_PORT" "HTTP_PORT" "METRICS_PORT" "SHUTDOWN_GRACE_SECONDS" "GRPC_TLS_CERT_FILE" "GRPC_TLS_KEY_FILE" "GRPC_TLS_CA_FILE" "GRPC_TLS_TRUST_DOMAIN" "GRPC_HEALTH_PORT" "OTEL_SERVICE_NAME" "OTEL_RESOURCE_ATTRIBUTES" "OTEL_TRACES_SAMPLER" "OTEL_TRACES_SAMPLER_ARG" "OTEL_EXPORTER_OTLP_ENDPOINT" "OTEL_EXPORTER_OTLP_HEADERS" "MASTER_KEY" "DATABASE_URL" "DATABASE_POOL_MAX_SIZE" "MIGRATE_ON_START" "REDIS_URL" "KAFKA_BOOTSTRAP_SERVERS" "KAFKA_SECURITY_PROTOCOL" "KAFKA_SASL_MECHANISM" "KAFKA_SASL_USERNAME" "KAFKA_SASL_PASSWORD" "KAFKA_SSL_CAFILE" "KAFKA_TOPIC_PREFIX" "KAFKA_TOPIC_PARTITIONS" "KAFKA_REPLICATION_FACTOR" "EVENT_SPOOL_DIR" "CONFIG_PATH" "BIND_HOST" "ALLOWED_AWS_STS_ENDPOINTS" "ALLOWED_WEB_IDENTITY_TOKEN_FILES" "ALLOWED_CREDENTIAL_FILES" "ALLOWED_S3_BUCKETS" "ALLOWED_GCS_BUCKETS" "SESSION_SIGNING_KEYS" "SESSION_TTL_SECONDS" "OIDC_ISSUER_URL" "OIDC_CLIENT_ID" "OIDC_CLIENT_SECRET" "OIDC_SCOPES" "OIDC_AUDIENCES" "SUPER_ADMIN_EMAILS" "OIDC_INTROSPECTION_CLIENT_ID" "OIDC_INTROSPECTION_CLIENT_SECRET" "OIDC_INTROSPECTION_CACHE_SECONDS" "OIDC_ACTIONS_SIGNING_KEY" "PUBLIC_URL" -}}
{{- range $key, $_ := .svc.env -}}
{{- if or (has $key $reserved) (hasSuffix "_ADDR" $key) -}}
{{- fail (printf "services.%s.env.%s is set by the chart; use the dedicated value instead" $.name $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Volumes of one service: /tmp, the event spool, the model config, CA bundles and its gRPC
certificate (a whole-Secret mount, never subPath, so that renewed files appear in place). */}}
{{- define "switchyard.volumes" -}}
{{- $v := .root.Values -}}
{{- $uses := .svc.uses -}}
- name: tmp
  emptyDir: {sizeLimit: 64Mi}
{{- if and (include "switchyard.grpcTls" .root) (not .job) }}
- name: grpc-tls
  secret:
    secretName: {{ include "switchyard.grpcTlsSecret" . | quote }}
    defaultMode: 0440
    items:
      - {key: tls.crt, path: tls.crt}
      - {key: tls.key, path: tls.key}
      - {key: ca.crt, path: ca.crt}
{{- end }}
{{- if has "kafka" $uses }}
- name: event-spool
  {{- with $v.kafka.spool.existingClaim }}
  persistentVolumeClaim: {claimName: {{ . | quote }}}
  {{- else }}
  emptyDir: {sizeLimit: {{ $v.kafka.spool.sizeLimit | quote }}}
  {{- end }}
{{- end }}
{{- if and (has "modelConfig" $uses) (not .job) }}
- name: model-config
  configMap:
    name: {{ include "switchyard.modelConfigName" .root }}
{{- end }}
{{- range $backend := list "postgresql" "redis" "kafka" }}
{{- $tls := (index $v $backend).tls }}
{{- if and (has $backend $uses) $tls.caSecret }}
- name: {{ printf "tls-%s" $backend }}
  secret:
    secretName: {{ $tls.caSecret | quote }}
    defaultMode: 0444
    items:
      - {key: {{ $tls.caKey | quote }}, path: ca.crt}
{{- end }}
{{- end }}
{{- end -}}

{{- define "switchyard.volumeMounts" -}}
{{- $v := .root.Values -}}
{{- $uses := .svc.uses -}}
- {name: tmp, mountPath: /tmp}
{{- if and (include "switchyard.grpcTls" .root) (not .job) }}
- {name: grpc-tls, mountPath: /etc/switchyard/grpc-tls, readOnly: true}
{{- end }}
{{- if has "kafka" $uses }}
- {name: event-spool, mountPath: /var/lib/switchyard/spool}
{{- end }}
{{- if and (has "modelConfig" $uses) (not .job) }}
- {name: model-config, mountPath: /etc/switchyard/model-config, readOnly: true}
{{- end }}
{{- range $backend := list "postgresql" "redis" "kafka" }}
{{- if and (has $backend $uses) (index $v $backend).tls.caSecret }}
- {name: {{ printf "tls-%s" $backend }}, mountPath: {{ printf "/etc/switchyard/tls/%s" $backend }}, readOnly: true}
{{- end }}
{{- end }}
{{- end -}}

{{- define "switchyard.scheduling" -}}
{{- $v := .root.Values -}}
{{- with (default $v.nodeSelector .svc.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $v.tolerations .svc.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end -}}
