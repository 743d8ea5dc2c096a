#include "gateway/app/gateway_app.h"

#include <Poco/Util/OptionException.h>

#include <iostream>

int main(int argc, char** argv)
{
    hl7gw::app::GatewayApp app;
    try {
        app.init(argc, argv);
    } catch (const Poco::Util::OptionException& e) {
        std::cerr << "hl7gw: " << e.displayText() << " (see hl7gw --help)\n";
        return 2;
    } catch (const Poco::Exception& e) {
        std::cerr << "hl7gw: " << e.displayText() << '\n';
        return 2;
    }
    return app.run();
}
