// The operator's unexported object generators, reached by symbol with //go:linkname: the
// operator's code runs as it is, and none of it is copied here. (A build-time -overlay cannot
// add a file to a package in the module cache: the go command refuses replacements there.)

package main

import (
	_ "unsafe" // for go:linkname

	appsv2beta1 "github.com/emqx/emqx-operator/apis/apps/v2beta1"
	_ "github.com/emqx/emqx-operator/controllers/apps/v2beta1" // links the generators in
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
)

//go:linkname getNewStatefulSet github.com/emqx/emqx-operator/controllers/apps/v2beta1.getNewStatefulSet
func getNewStatefulSet(i *appsv2beta1.EMQX) *appsv1.StatefulSet

//go:linkname getNewReplicaSet github.com/emqx/emqx-operator/controllers/apps/v2beta1.getNewReplicaSet
func getNewReplicaSet(i *appsv2beta1.EMQX) *appsv1.ReplicaSet

//go:linkname generateHeadlessService github.com/emqx/emqx-operator/controllers/apps/v2beta1.generateHeadlessService
func generateHeadlessService(i *appsv2beta1.EMQX) *corev1.Service

//go:linkname generateDashboardService github.com/emqx/emqx-operator/controllers/apps/v2beta1.generateDashboardService
func generateDashboardService(i *appsv2beta1.EMQX, config string) *corev1.Service

//go:linkname generateListenerService github.com/emqx/emqx-operator/controllers/apps/v2beta1.generateListenerService
func generateListenerService(i *appsv2beta1.EMQX, config string) *corev1.Service

//go:linkname generateConfigMap github.com/emqx/emqx-operator/controllers/apps/v2beta1.generateConfigMap
func generateConfigMap(i *appsv2beta1.EMQX, data string) *corev1.ConfigMap

//go:linkname mergeDefaultConfig github.com/emqx/emqx-operator/controllers/apps/v2beta1.mergeDefaultConfig
func mergeDefaultConfig(config string) string

//go:linkname generatePodDisruptionBudget github.com/emqx/emqx-operator/controllers/apps/v2beta1.generatePodDisruptionBudget
func generatePodDisruptionBudget(i *appsv2beta1.EMQX) (*policyv1.PodDisruptionBudget, *policyv1.PodDisruptionBudget)
