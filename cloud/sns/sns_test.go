package sns_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ticketero/ticketero/cloud/postgres/notify"
	"github.com/ticketero/ticketero/cloud/sns"
	"github.com/ticketero/ticketero/cloud/sns/snstest"
	"github.com/ticketero/ticketero/shared/i18n"
)

// TestSMSTextsFitOneSMS renders every SMS text with its longest realistic
// arguments in both languages: GSM-7 and at most 160 septets, so each is
// one SMS.
func TestSMSTextsFitOneSMS(t *testing.T) {
	msgs := []notify.Msg{
		notify.ConfirmMsg("GE-999", 999, 3*3600, 4*3600),
		{Key: "telegram.prenotice", Args: []notify.Arg{notify.S("GE-999"), notify.S("999")}},
		notify.CalledMsg("GE-999", 99, "Maximiliano Bartolomé"),
		notify.CalledMsg("GE-999", 99, ""),
	}
	for _, lang := range []i18n.Lang{i18n.ES, i18n.EN} {
		for _, m := range msgs {
			sm := notify.SMSMsg(m)
			require.True(t, i18n.Has(sm.Key), sm.Key)
			text := sm.Render(lang)
			n, ok := sns.Septets(sns.GSM7(text))
			assert.True(t, ok, text)
			assert.LessOrEqual(t, n, sns.MaxSeptets, "%q is %d septets", text, n)
			assert.Equal(t, sns.GSM7(text), sns.Fit(text), "fits without cutting: %q", text)
		}
	}
}

func TestGSM7AndFit(t *testing.T) {
	assert.Equal(t, "Atencion rapida: modulo 3, ¿señor? ¡si!", sns.GSM7("Atención rápida: módulo 3, ¿señor? ¡sí!"))
	n, ok := sns.Septets("a{b}")
	assert.True(t, ok)
	assert.Equal(t, 6, n, "extension characters take two septets")
	_, ok = sns.Septets("á")
	assert.False(t, ok)
	long := strings.Repeat("Atención ", 40)
	f := sns.Fit(long)
	n, ok = sns.Septets(f)
	assert.True(t, ok)
	assert.LessOrEqual(t, n, sns.MaxSeptets)
	assert.True(t, strings.HasSuffix(f, "..."))
}

// TestFakeChecksSignature: the fake refuses an unsigned request and one
// signed with another secret, and accepts the SDK's own.
func TestFakeChecksSignature(t *testing.T) {
	fk := snstest.New(snstest.Options{})
	defer fk.Close()
	resp, err := http.PostForm(fk.URL, url.Values{"Action": {"Publish"}, "Version": {"2010-03-31"},
		"PhoneNumber": {"+56912345678"}, "Message": {"hola"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_ACCESS_KEY_ID", snstest.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
	bad, err := sns.New(context.Background(), sns.Config{Enabled: true, Region: snstest.Region, Endpoint: fk.URL, Rate: 1}, nil)
	require.NoError(t, err)
	_, err = bad.Publish(context.Background(), "+56912345678", "hola")
	var ae smithy.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "SignatureDoesNotMatch", ae.ErrorCode())

	t.Setenv("AWS_SECRET_ACCESS_KEY", snstest.SecretKey)
	good, err := sns.New(context.Background(), sns.Config{Enabled: true, Region: snstest.Region, Endpoint: fk.URL, Rate: 1,
		SenderID: "Banco"}, nil)
	require.NoError(t, err)
	id, err := good.Publish(context.Background(), "+56912345678", "hola")
	require.NoError(t, err)
	assert.NotEmpty(t, id)
	out, err := good.OptedOut(context.Background(), "+56912345678")
	require.NoError(t, err)
	assert.False(t, out)
	fk.OptOut("+56912345678")
	out, err = good.OptedOut(context.Background(), "+56912345678")
	require.NoError(t, err)
	assert.True(t, out)
	st := fk.Stats()
	assert.Equal(t, 2, st.BadSig)
	assert.Equal(t, 1, st.Published)
	assert.Equal(t, "Banco", fk.Sent()[0].SenderID)
}

// TestConfigValidate names the bad field.
func TestConfigValidate(t *testing.T) {
	ok := sns.Config{Enabled: true, SenderID: "BancoCL", Rate: 10}
	require.NoError(t, ok.Validate())
	require.NoError(t, sns.Config{SenderID: "Banco de Chile"}.Validate(), "SMS off: nothing to check")
	for name, c := range map[string]sns.Config{
		"TICKETERO_SNS_SENDER_ID": {Enabled: true, SenderID: "Banco de Chile", Rate: 10},
		"TICKETERO_SNS_RATE":      {Enabled: true, Rate: 0},
		"TICKETERO_SNS_MAX_PRICE": {Enabled: true, Rate: 10, MaxPrice: "free"},
		"TICKETERO_SNS_ENDPOINT":  {Enabled: true, Rate: 10, Endpoint: "ftp://x"},
	} {
		err := c.Validate()
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
	}
}
