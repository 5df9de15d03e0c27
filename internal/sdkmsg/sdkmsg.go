package sdkmsg

// Actions sent by the SDK (each expects a reply with the same RequestId).
const (
	ActionActivateServerProcess             = "ActivateServerProcess"
	ActionHeartbeatServerProcess            = "HeartbeatServerProcess"
	ActionActivateGameSession               = "ActivateGameSession"
	ActionUpdatePlayerSessionCreationPolicy = "UpdatePlayerSessionCreationPolicy"
	ActionAcceptPlayerSession               = "AcceptPlayerSession"
	ActionRemovePlayerSession               = "RemovePlayerSession"
	ActionDescribePlayerSessions            = "DescribePlayerSessions"
	ActionStartMatchBackfill                = "StartMatchBackfill"
	ActionStopMatchBackfill                 = "StopMatchBackfill"
	ActionGetComputeCertificate             = "GetComputeCertificate"
	ActionGetFleetRoleCredentials           = "GetFleetRoleCredentials"
	ActionTerminateServerProcess            = "TerminateServerProcess"
)

// Actions pushed by the service (no RequestId, no reply).
const (
	PushCreateGameSession = "CreateGameSession"
	PushUpdateGameSession = "UpdateGameSession"
	PushTerminateProcess  = "TerminateProcess"
	PushRefreshConnection = "RefreshConnection"
)

// Envelope is the part of every frame used for routing.
type Envelope struct {
	Action       string `json:"Action"`
	RequestId    string `json:"RequestId,omitempty"`
	StatusCode   int    `json:"StatusCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

// ActivateServerProcess is sent by ProcessReady.
type ActivateServerProcess struct {
	SdkVersion     string   `json:"SdkVersion,omitempty"`
	SdkLanguage    string   `json:"SdkLanguage,omitempty"`
	SdkToolName    string   `json:"SdkToolName,omitempty"`
	SdkToolVersion string   `json:"SdkToolVersion,omitempty"`
	Port           int      `json:"Port,omitempty"`
	LogPaths       []string `json:"LogPaths"`
}

// HeartbeatServerProcess reports health.
type HeartbeatServerProcess struct {
	HealthStatus bool `json:"HealthStatus"`
}

// ActivateGameSession is sent once the game is ready for players.
type ActivateGameSession struct {
	GameSessionId string `json:"GameSessionId,omitempty"`
}

// UpdatePlayerSessionCreationPolicy changes the session's policy.
type UpdatePlayerSessionCreationPolicy struct {
	GameSessionId       string `json:"GameSessionId"`
	PlayerSessionPolicy string `json:"PlayerSessionPolicy"`
}

// PlayerSessionRequest is the body of AcceptPlayerSession and RemovePlayerSession.
type PlayerSessionRequest struct {
	GameSessionId   string `json:"GameSessionId,omitempty"`
	PlayerSessionId string `json:"PlayerSessionId,omitempty"`
}

// DescribePlayerSessions asks for player sessions by exactly one selector.
type DescribePlayerSessions struct {
	GameSessionId             string `json:"GameSessionId,omitempty"`
	PlayerId                  string `json:"PlayerId,omitempty"`
	PlayerSessionId           string `json:"PlayerSessionId,omitempty"`
	PlayerSessionStatusFilter string `json:"PlayerSessionStatusFilter,omitempty"`
	NextToken                 string `json:"NextToken,omitempty"`
	Limit                     int    `json:"Limit,omitempty"`
}

// PlayerSession is a player session as the SDK reads it: times are integer epoch ms.
type PlayerSession struct {
	PlayerId        string `json:"PlayerId"`
	PlayerSessionId string `json:"PlayerSessionId"`
	GameSessionId   string `json:"GameSessionId"`
	FleetId         string `json:"FleetId"`
	PlayerData      string `json:"PlayerData"`
	IpAddress       string `json:"IpAddress"`
	Port            int    `json:"Port"`
	CreationTime    int64  `json:"CreationTime"`
	TerminationTime int64  `json:"TerminationTime"`
	DnsName         string `json:"DnsName"`
	Status          string `json:"Status"`
}

// DescribePlayerSessionsResult is the reply's payload (at the top level of the frame).
type DescribePlayerSessionsResult struct {
	NextToken      string          `json:"NextToken"`
	PlayerSessions []PlayerSession `json:"PlayerSessions"`
}

// StartMatchBackfill asks for backfill.
type StartMatchBackfill struct {
	GameSessionArn              string `json:"GameSessionArn,omitempty"`
	MatchmakingConfigurationArn string `json:"MatchmakingConfigurationArn,omitempty"`
	TicketId                    string `json:"TicketId"`
	Players                     []any  `json:"Players"`
}

// StartMatchBackfillResult carries the ticket id.
type StartMatchBackfillResult struct {
	TicketId string `json:"TicketId"`
}

// StopMatchBackfill cancels backfill.
type StopMatchBackfill struct {
	GameSessionArn              string `json:"GameSessionArn,omitempty"`
	MatchmakingConfigurationArn string `json:"MatchmakingConfigurationArn,omitempty"`
	TicketId                    string `json:"TicketId,omitempty"`
}

// GetComputeCertificateResult answers GetComputeCertificate.
type GetComputeCertificateResult struct {
	CertificatePath string `json:"CertificatePath"`
	ComputeName     string `json:"ComputeName"`
}

// GetFleetRoleCredentials asks for role credentials.
type GetFleetRoleCredentials struct {
	RoleArn         string `json:"RoleArn"`
	RoleSessionName string `json:"RoleSessionName"`
}

// GetFleetRoleCredentialsResult answers it; an empty AccessKeyId tells the SDK that
// credentials are not available here (spec §3).
type GetFleetRoleCredentialsResult struct {
	AssumedRoleUserArn string `json:"AssumedRoleUserArn"`
	AssumedRoleId      string `json:"AssumedRoleId"`
	AccessKeyId        string `json:"AccessKeyId"`
	SecretAccessKey    string `json:"SecretAccessKey"`
	SessionToken       string `json:"SessionToken"`
	Expiration         int64  `json:"Expiration"`
}

// CreateGameSession push: starts OnStartGameSession. GameProperties is a string map.
type CreateGameSession struct {
	Action                    string            `json:"Action"`
	GameSessionId             string            `json:"GameSessionId"`
	GameSessionName           string            `json:"GameSessionName"`
	GameSessionData           string            `json:"GameSessionData"`
	MatchmakerData            string            `json:"MatchmakerData"`
	MaximumPlayerSessionCount int               `json:"MaximumPlayerSessionCount"`
	Port                      int               `json:"Port"`
	IpAddress                 string            `json:"IpAddress"`
	DnsName                   string            `json:"DnsName"`
	GameProperties            map[string]string `json:"GameProperties"`
}

// GameSession is the game session object inside UpdateGameSession (note: Name).
type GameSession struct {
	GameSessionId             string            `json:"GameSessionId"`
	GameSessionData           string            `json:"GameSessionData"`
	Name                      string            `json:"Name"`
	MatchmakerData            string            `json:"MatchmakerData"`
	FleetId                   string            `json:"FleetId"`
	Location                  string            `json:"Location"`
	IpAddress                 string            `json:"IpAddress"`
	DnsName                   string            `json:"DnsName"`
	StatusReason              string            `json:"StatusReason"`
	MaximumPlayerSessionCount int               `json:"MaximumPlayerSessionCount"`
	Port                      int               `json:"Port"`
	GameProperties            map[string]string `json:"GameProperties"`
	Status                    string            `json:"Status"`
}

// UpdateGameSession push: starts OnUpdateGameSession. UpdateReason is always sent.
type UpdateGameSession struct {
	Action           string      `json:"Action"`
	BackfillTicketId string      `json:"BackfillTicketId"`
	UpdateReason     string      `json:"UpdateReason"`
	GameSession      GameSession `json:"GameSession"`
}

// TerminateProcess push: TerminationTime is integer epoch milliseconds.
type TerminateProcess struct {
	Action          string `json:"Action"`
	TerminationTime int64  `json:"TerminationTime"`
}

// RefreshConnection push: reconnect to this endpoint with this token.
type RefreshConnection struct {
	Action                    string `json:"Action"`
	RefreshConnectionEndpoint string `json:"RefreshConnectionEndpoint"`
	AuthToken                 string `json:"AuthToken"`
}
