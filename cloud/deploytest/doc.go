// Package deploytest holds no code, only tests of the files under deploy/:
// the CloudFormation template (every reference resolves, the properties the
// architecture promises are there), the IoT branch policy (a branch may touch
// exactly its own topics), the Dockerfile, the systemd unit and the on-premises
// Mosquitto configuration (run for real). It lives in the cloud module because
// the cloud is what deploy/ ships; the tests read ../../deploy.
package deploytest
