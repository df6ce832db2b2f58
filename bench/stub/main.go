// Command stub is a minimal, fast stand-in for the KYC vendors, for benchmarks: it answers
// exactly the calls the benchmark makes through the gateway, with the bodies the real
// vendors document, and does as little work as it can so that the gateway's cost is what
// a measurement shows.
//
//	GET  /baf/publicapi/api/v2/private/Applicants/{id}   seed 003's applicant example (BAF)
//	POST /ableid/check/start/second                      201 with a fresh 21-character attemptId
//	POST /ableid/check/start/foreign                     (AbleID start calls)
//	POST /trivial                                        200 {"message":"stored"}: the load
//	                                                     generator's own ceiling
//
// It prints "listening <host:port>" on stdout once it accepts connections. The BAF key and
// the AbleID credentials are checked, so a gateway pointed at the stub with the wrong
// configuration fails loudly instead of measuring error paths.
package main

import (
	"crypto/subtle"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
)

// applicantPrefix and applicantSuffix surround the applicant id in seed 003's example of
// GET /api/v2/private/Applicants/{applicantId}: a real answer's size and shape.
const applicantPrefix = `{"applicantId":"`

const applicantSuffix = `","attemptsCount":2,"lastAttemptId":133,"successAttemptId":133,` +
	`"successAttempt":{"attemptId":117,"created":"2023-11-17T04:38:04.653858","documentTypeInt":10,` +
	`"status":0,"validationStatus":{"faceIsValid":true,"antiSpoofingIsValid":true,"qualityIsValid":true},` +
	`"validations":{"liveness":{"verdict":true,"details":[{"name":"FaceLiveness","verdict":true,"score":0.99}]},` +
	`"quality":{"verdict":true,"details":[{"name":"FaceQuality","verdict":true,"score":0.53}]}}},` +
	`"firstName":"John","lastName":"Dow","phone":"1542540505-039","email":"string","referenceId":"string",` +
	`"openedLinkTimes":0,"created":"2023-09-19T10:39:00.0307329","accountId":"28608",` +
	`"validationRequestSettings":{"validationRequestId":"0ec2b5","faceValidationPercent":70,` +
	`"documentValidationPercent":70,"qualityScore":30,"isOCREnabled":true,"ageYearsDifference":10},` +
	`"completed":true,"status":3,"statusName":"Canceled","attemptsUsed":0,` +
	`"lastValidationResponse":{"validationResponseId":133,"created":"2023-11-17T04:40:31.509932",` +
	`"responseStatus":0,"responseStatusName":"Success"},` +
	`"hasRiskEvents":false,"metadata":{"additionalProp1":"string"},"callbackUrl":null,"verificationMethod":0}`

const bafPrefix = "/baf/publicapi/api/v2/private/Applicants/"

// idAlphabet is the alphabet of AbleID's 21-character attempt ids (nanoid's).
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	bafKey := flag.String("baf-key", "sk_bench", "the BAF secret key the gateway must send")
	project := flag.String("ableid-project", "bench", "the AbleID projectId the gateway must send")
	secret := flag.String("ableid-secret", "bench-secret", "the AbleID secret the gateway must send")
	flag.Parse()

	s := &stub{bafAuth: "Bearer " + *bafKey, project: *project, secret: *secret}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+bafPrefix+"{id}", s.applicant)
	mux.HandleFunc("POST /ableid/check/start/second", s.start)
	mux.HandleFunc("POST /ableid/check/start/foreign", s.start)
	mux.HandleFunc("POST /trivial", trivial)

	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening %s\n", listener.Addr())
	_ = os.Stdout.Sync()
	log.Fatal(http.Serve(listener, mux))
}

type stub struct {
	bafAuth, project, secret string
}

func (s *stub) applicant(w http.ResponseWriter, r *http.Request) {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(s.bafAuth)) != 1 {
		http.Error(w, `{"code":401,"message":"Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	id := r.PathValue("id")
	body := make([]byte, 0, len(applicantPrefix)+len(id)+len(applicantSuffix))
	body = append(append(append(body, applicantPrefix...), id...), applicantSuffix...)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// startRequest is the part of AbleID's start body the stub checks.
type startRequest struct {
	ProjectID     string   `json:"projectId"`
	Secret        string   `json:"secret"`
	TransactionID string   `json:"transactionId"`
	Hooks         []string `json:"hooks"`
	Lang          string   `json:"lang"`
}

func (s *stub) start(w http.ResponseWriter, r *http.Request) {
	var req startRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		ableidError(w, http.StatusBadRequest, 20202, "INCORRECT_DATA_FORMAT")
		return
	}
	if req.ProjectID != s.project || subtle.ConstantTimeCompare([]byte(req.Secret), []byte(s.secret)) != 1 {
		ableidError(w, http.StatusBadRequest, 10202, "FACE_PROJECT_NOT_FOUND")
		return
	}
	if req.TransactionID == "" || len(req.Hooks) == 0 {
		ableidError(w, http.StatusBadRequest, 20201, "NO_MANDATORY_DATA_AVAILABLE")
		return
	}
	lang := req.Lang
	if lang == "" {
		lang = "ru"
	}
	id := attemptID()
	body := `{"statusCode":200,"type":"SUCCESS","message":"ok","data":{"attemptId":"` + id +
		`","fullUrl":"http://` + r.Host + `/session/` + id + `","lang":"` + lang + `"}}`
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, body)
}

func ableidError(w http.ResponseWriter, status, code int, kind string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"statusCode":%d,"type":%q,"data":null,"message":"stub"}`, code, kind)
}

// attemptID is a fresh AbleID-style id: 21 characters of the nanoid alphabet.
func attemptID() string {
	var b strings.Builder
	b.Grow(21)
	for range 21 {
		b.WriteByte(idAlphabet[rand.IntN(len(idAlphabet))])
	}
	return b.String()
}

// trivial is the cheapest useful POST handler: it reads the body and answers like a hook
// receiver. Under the same load generator it shows what HTTP alone costs.
func trivial(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"message":"stored"}`)
}
