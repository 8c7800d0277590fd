package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/ticketero/ticketero/cloud/sqs"
	"github.com/ticketero/ticketero/shared/event"
	"github.com/ticketero/ticketero/shared/testkit/devtools"
	"github.com/ticketero/ticketero/shared/testkit/mqtttest"
)

// fauxqsBin is the SQS-compatible server (npm package fauxqs): --fauxqs, else
// TICKETERO_FAUXQS, else what scripts/dev-services.sh installs into .dev/fauxqs.
func fauxqsBin(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	return devtools.Bin("TICKETERO_FAUXQS", "fauxqs", "fauxqs")
}

// startFauxqs starts fauxqs on a free port and creates the events queue; it
// returns the endpoint, the queue's URL and how to stop the server.
func startFauxqs(ctx context.Context, flag string) (endpoint, queueURL string, stop func(), err error) {
	bin, err := fauxqsBin(flag)
	if err != nil {
		return "", "", nil, err
	}
	port, err := mqtttest.FreePort()
	if err != nil {
		return "", "", nil, err
	}
	cmd := exec.Command(bin) // #nosec G204 -- the benchmark's SQS server
	cmd.Env = append(os.Environ(), fmt.Sprintf("FAUXQS_PORT=%d", port), "FAUXQS_LOGGER=false", "FAUXQS_HOST=127.0.0.1")
	if err := cmd.Start(); err != nil {
		return "", "", nil, err
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if res, err := http.Get(endpoint + "/health"); err == nil { // #nosec G107 -- local
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", "", nil, errors.New("fauxqs did not start")
		}
	}
	q, err := client(endpoint).CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("ticketero-events")})
	if err != nil {
		stop()
		return "", "", nil, err
	}
	return endpoint, aws.ToString(q.QueueUrl), stop, nil
}

func client(endpoint string) *awssqs.Client {
	return sqs.NewClient(aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}, endpoint)
}

// bridgeWorkers send the bridge's batches. A worker sends what is waiting,
// up to 10, in one SendMessageBatch: the rule engine sends each message alone
// but at AWS's scale, while fauxqs is one Node process on this machine's two
// cores. With 8 workers sending one message each, the bridge itself was the
// SQS path's tail at 5,000 branches (MQTT receipt to the queue: p50 5.5 s,
// p99 18 s, against 130 ms held and 130 ms stored in the cloud;
// docs/performance.md).
const bridgeWorkers = 32

// bridge plays the AWS IoT rule
//
//	SELECT *, topic() AS topic FROM 'ticketero/v1/branches/+/events'
//
// with an SQS action: it subscribes to every branch's events topic (the
// cloud's certificate, QoS 1) and sends each batch to the queue with the
// topic added, as cloud/sqs expects. Batches are sent by bridgeWorkers
// workers, so the queue sees them a little out of order, as SQS standard
// queues deliver.
type bridge struct {
	cl         paho.Client
	msgs       chan bridged
	wait       samples // MQTT receipt → SendMessage done
	wg         sync.WaitGroup
	sent, errs atomic.Int64
}

func startBridge(ctx context.Context, b *mqtttest.Broker, endpoint, queueURL string, log *slog.Logger) (*bridge, error) {
	tc, err := b.PKI.TLSConfig(b.Cloud)
	if err != nil {
		return nil, err
	}
	br := &bridge{msgs: make(chan bridged, 10000)}
	api := client(endpoint)
	for range bridgeWorkers {
		br.wg.Go(func() {
			for bm := range br.msgs {
				// What else is waiting goes with it, up to SendMessageBatch's 10.
				batch := []bridged{bm}
			more:
				for len(batch) < 10 {
					select {
					case x, ok := <-br.msgs:
						if !ok {
							break more
						}
						batch = append(batch, x)
					default:
						break more
					}
				}
				br.send(ctx, api, queueURL, batch, log)
			}
		})
	}
	opts := paho.NewClientOptions().AddBroker(b.URL()).SetClientID("fleet-iot-rule").SetTLSConfig(tc).
		SetCleanSession(true).SetOrderMatters(false).SetAutoReconnect(true).
		SetOnConnectHandler(func(c paho.Client) {
			c.Subscribe(event.EventsFilter, 1, func(_ paho.Client, m paho.Message) { br.msgs <- bridged{m, time.Now()} })
		})
	br.cl = paho.NewClient(opts)
	if t := br.cl.Connect(); !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		return nil, fmt.Errorf("connect: %v", t.Error())
	}
	return br, nil
}

// bridged is a batch the bridge received, and when.
type bridged struct {
	m  paho.Message
	at time.Time
}

// send sends batch to the queue in one SendMessageBatch, retrying what
// failed a few times; what still fails is lost, as a rule's failed action
// would lose it (the agent's resend covers it).
func (br *bridge) send(ctx context.Context, api *awssqs.Client, queueURL string, batch []bridged, log *slog.Logger) {
	entries := make([]types.SendMessageBatchRequestEntry, len(batch))
	for i, bm := range batch {
		m := bm.m
		body := strings.TrimSuffix(strings.TrimSpace(string(m.Payload())), "}") + `,"topic":"` + m.Topic() + `"}`
		entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(body)}
	}
	for try := 0; len(entries) > 0; try++ {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		out, err := api.SendMessageBatch(sctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
		cancel()
		var retry []types.SendMessageBatchRequestEntry
		if err != nil {
			retry = entries
		} else {
			for _, ok := range out.Successful {
				if i, err := strconv.Atoi(aws.ToString(ok.Id)); err == nil && i < len(batch) {
					br.sent.Add(1)
					br.wait.add(time.Since(batch[i].at))
				}
			}
			for _, f := range out.Failed {
				for _, e := range entries {
					if aws.ToString(e.Id) == aws.ToString(f.Id) {
						retry = append(retry, e)
					}
				}
			}
		}
		if len(retry) == 0 {
			return
		}
		br.errs.Add(int64(len(retry)))
		if try == 5 {
			log.Warn("bridge: send failed", "messages", len(retry), "err", err)
			return
		}
		entries = retry
		time.Sleep(200 * time.Millisecond)
	}
}

func (br *bridge) stop() {
	br.cl.Disconnect(250)
	close(br.msgs)
	br.wg.Wait()
}
